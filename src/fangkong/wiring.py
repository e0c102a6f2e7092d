"""The one table of which handlers react to which domain event (the whole "并联推进" fan-out).

Read top to bottom, this file says what happens across capabilities when something happens in one.
Each capability keeps its rows in its own section below.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session

from fangkong.core.events import (
    DomainEvent,
    EventBus,
    PeoplePlacedUnderManagement,
    PersonPlacedUnderManagement,
    PersonReleasedFromManagement,
)

Subscription = tuple[type[DomainEvent], Callable[[Session, DomainEvent], None]]


def _protocol() -> list[Subscription]:
    from fangkong.protocol import service

    return [
        # Whoever asks for a person to be managed gets the plan of the protocol in force there.
        (PersonPlacedUnderManagement, service.place_under_management),
        (PeoplePlacedUnderManagement, service.place_many_under_management),
        (PersonReleasedFromManagement, service.release_from_management),
    ]


def _testing() -> list[Subscription]:
    from fangkong.testing.service import orders

    return [
        # After the plan is computed (the protocol rows come first): each test day becomes an order.
        (PersonPlacedUnderManagement, orders.orders_for_placements),
        (PeoplePlacedUnderManagement, orders.orders_for_placements),
        # A source that no longer requires the person: their open orders from it are cancelled.
        (PersonReleasedFromManagement, orders.orders_for_release),
    ]


def _tracing() -> list[Subscription]:
    from fangkong.quarantine.events import PersonCheckedIntoQuarantine, RoommatesExposed
    from fangkong.testing.events import PersonTestedPositive
    from fangkong.tracing import handlers

    return [
        # Checked into a quarantine room: the contact is isolated from that moment.
        (PersonCheckedIntoQuarantine, handlers.record_isolation),
        # Someone positive in a shared room: the roommates become close contacts of that case.
        (RoommatesExposed, handlers.roommates_exposed),
        # A positive single-person test: the person becomes a case (a contact is converted).
        (PersonTestedPositive, handlers.case_from_positive_test),
    ]


def _quarantine() -> list[Subscription]:
    from fangkong.quarantine.service import staffing, stays
    from fangkong.resources.events import StaffPostingsEnded
    from fangkong.tracing.events import CaseReported

    return [
        # A person in quarantine found to be a case leaves for hospital; roommates are exposed.
        (CaseReported, stays.convert_to_case),
        # Staff marked not available left their sites: the sites' stored staff on duty follow.
        (StaffPostingsEnded, staffing.on_staff_postings_ended),
    ]


def _surveillance() -> list[Subscription]:
    return []


def _areas() -> list[Subscription]:
    from fangkong.areas.events import RiskAreaDesignated, RiskAreaLifted
    from fangkong.areas.service import arrivals, designation, public
    from fangkong.tracing.events import CaseReported

    return [
        # A new case inside an area in force restarts its lifting clock (and blocks a lifting due).
        (CaseReported, designation.case_reported),
        # An area designated today: travellers who left it within its window are found again.
        (RiskAreaDesignated, arrivals.arrivals_for_designated_area),
        # The public page and feeds are rebuilt, and the district's subscribers get a notice.
        (RiskAreaDesignated, public.invalidate),
        (RiskAreaDesignated, public.notices_for_change),
        (RiskAreaLifted, public.invalidate),
        (RiskAreaLifted, public.notices_for_change),
    ]


def _response() -> list[Subscription]:
    from fangkong.areas.events import DoorstepRequested, RiskAreaDesignated
    from fangkong.quarantine.events import PersonCheckedIntoQuarantine, QuarantineSiteActivated
    from fangkong.response.service import counters, handlers
    from fangkong.surveillance.events import AlertAnswered, AlertRaised
    from fangkong.testing.events import PersonTestedPositive, PoolFoundPositive, PoolRecalled
    from fangkong.tracing.events import AssistRequested, CaseInvestigated, CaseReclassified, CaseReported
    from fangkong.vaccination.events import AdverseEventReported, AdverseEventSentToCounty

    return [
        # Each event opens, in parallel, the lines of work its templates list (2+4+24 for a case).
        (CaseReported, handlers.case_reported),
        (CaseReclassified, handlers.case_reclassified),
        (AlertRaised, handlers.alert_raised),
        (AssistRequested, handlers.assist_requested),
        (PoolFoundPositive, handlers.pool_found_positive),
        (QuarantineSiteActivated, handlers.site_activated),
        (DoorstepRequested, handlers.doorstep_requested),
        (AdverseEventReported, handlers.aefi_reported),
        # The record that fulfils a task closes it: nobody ticks a box the platform can see is done.
        (CaseInvestigated, handlers.case_investigated),
        (PersonCheckedIntoQuarantine, handlers.person_checked_into_quarantine),
        (RiskAreaDesignated, handlers.risk_area_designated),
        (AlertAnswered, handlers.alert_answered),
        (PoolRecalled, handlers.pool_recalled),
        (AdverseEventSentToCounty, handlers.aefi_sent_to_county),
        # The dashboard's counters move in the same transaction as the change they count.
        (CaseReported, counters.case_reported),
        (CaseReclassified, counters.case_reclassified),
        (PersonPlacedUnderManagement, counters.person_placed),
        (PeoplePlacedUnderManagement, counters.people_placed),
        (PersonReleasedFromManagement, counters.person_released),
        (PersonCheckedIntoQuarantine, counters.checked_into_quarantine),
        (PersonTestedPositive, counters.tested_positive),
        (AlertRaised, counters.alert_raised),
    ]


def _vaccination() -> list[Subscription]:
    from fangkong.core.events import PersonRegistered
    from fangkong.vaccination.events import DosesRecorded
    from fangkong.vaccination.service import status

    return [
        # A person's status (and the stored coverage counts) follow their doses in the same transaction.
        (DosesRecorded, status.on_doses_recorded),
        # A new resident enters the coverage denominators at once (bulk imports are counted at refresh).
        (PersonRegistered, status.on_person_registered),
    ]


def _resources() -> list[Subscription]:
    from fangkong.resources.service import supplies
    from fangkong.testing.events import RoundClosed

    return [
        # A closed testing round draws its tubes, reagents and swabs from the stock that served it.
        (RoundClosed, supplies.on_round_closed),
    ]


def _modeling() -> list[Subscription]:
    return []


def subscriptions() -> list[Subscription]:
    # The response rows come last: a task closes on what the other capabilities have just recorded.
    return [
        *_protocol(), *_testing(), *_tracing(), *_surveillance(), *_quarantine(), *_areas(), *_vaccination(),
        *_resources(),
        *_modeling(), *_response(),
    ]  # fmt: skip


def build_bus() -> EventBus:
    bus = EventBus()
    for event_type, handler in subscriptions():
        bus.subscribe(event_type, handler)
    return bus


def outside_scope_checks() -> list[Callable[..., bool]]:
    """What may let a user read a person outside their subtree (the people registry asks each, in
    order, before answering "not found"): a grant with a stated reason, which audits the read."""
    from fangkong.privacy.service import access

    return [access.allows]
