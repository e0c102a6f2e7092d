"""Use cases of case investigation and tracing: one function per thing an investigator does.

Every function takes the caller's session (the API, page or CLI opens the unit of work), limits every
read of people-linked rows to the caller's subtree with ``core.scope.under`` (a row outside it is "not
found"), audits every write, and publishes the management events the protocol capability acts on:
``PersonPlacedUnderManagement`` when a contact is classified into a managed category,
``PersonReleasedFromManagement`` when that stops being true, both with ``source=f"contact:{id}"``.

The package holds one module per use case; this module is its public face (callers import from
``fangkong.tracing.service`` as before):

- :mod:`.cases`: registering a case, correcting and reclassifying it;
- :mod:`.visits`: the places and time slots of a case's account;
- :mod:`.exposures`: the line list of exposures, added and removed;
- :mod:`.classifying`: classifying the exposed people and keeping their contact records up to date;
- :mod:`.contacts`: an investigator's override of the classifier, a contact becoming a case;
- :mod:`.conversion`: the contact records of a person who becomes a case, converted with chain links;
- :mod:`.isolation`: whether a new case was managed when found, and since when isolated;
- :mod:`.links`: transmission chain links and clusters;
- :mod:`.lists`: the case and contact lists;
- :mod:`.details`: a case's and a contact's detail;
- :mod:`.daily`: daily case counts by report or onset day (the epidemic curve, the Rt page);
- :mod:`.epicurve`: the reader's daily counts per jurisdiction down the tree, local and imported apart,
  and the onset → report pairs of the nowcast;
- :mod:`.serial`: the serial interval measured on the transmission chains;
- :mod:`.progress`: how far an investigation has come (system reads for response) and
  ``CaseInvestigated``;
- :mod:`.reads`: the reads the others build on (a case or contact in scope, paging, place pickers) and
  the reads other capabilities make.
"""

from __future__ import annotations

from fangkong.tracing.models import (
    Case,
    CaseHistory,
    Certainty,
    ChainLink,
    Classification,
    Contact,
    ContactCategory,
    ContactStatus,
    Exposure,
    Outcome,
    PlaceKind,
    Visit,
)
from fangkong.tracing.service.cases import (
    CaseInput,
    CaseUpdate,
    found_day,
    reclassify_case,
    register_case,
    update_case,
)
from fangkong.tracing.service.classifying import (
    _case_ids_by_subject as _case_ids_by_subject,
)
from fangkong.tracing.service.classifying import (
    _facts as _facts,
)
from fangkong.tracing.service.classifying import (
    _update_contact as _update_contact,
)
from fangkong.tracing.service.classifying import (
    index_timing,
    persons_key,
    reclassify_contacts,
)
from fangkong.tracing.service.contacts import convert_contact, override_contact
from fangkong.tracing.service.conversion import (
    _absorb_contacts as _absorb_contacts,
)
from fangkong.tracing.service.daily import case_count_rows, cases_by_place, daily_case_counts, report_facts
from fangkong.tracing.service.daily_figures import case_figures, contacts_identified
from fangkong.tracing.service.details import CaseDetail, ContactDetail, case_detail, contact_detail
from fangkong.tracing.service.epicurve import (
    AreaCurve,
    CaseCounts,
    CurveNowcast,
    area_counts,
    case_counts,
    has_cases,
    onset_nowcast,
    onset_report_pairs,
)
from fangkong.tracing.service.exposures import ExposureInput, add_exposures, exposures_of, remove_exposure
from fangkong.tracing.service.isolation import (
    ISOLATING_STAGES,
    first_isolation,
    isolation_of,
)
from fangkong.tracing.service.isolation import (
    _managing_contacts as _managing_contacts,
)
from fangkong.tracing.service.links import LinkView, add_link, links_of, merge_clusters, remove_link
from fangkong.tracing.service.lists import (
    CaseFilter,
    CaseRow,
    ContactFilter,
    ContactRow,
    case_rows,
    contact_rows,
    list_cases,
    list_contacts,
)
from fangkong.tracing.service.progress import close_contacts_isolated, contacts_count
from fangkong.tracing.service.reads import (
    MAX_PAGE_SIZE,
    Page,
    PlaceGroup,
    actor,
    case_by_ref,
    community_choices,
    county_choices,
    county_code_of,
    get_case,
    get_contact,
    index_cases_of_sources,
)
from fangkong.tracing.service.serial import serial_interval, serial_interval_dict, transmission_intervals
from fangkong.tracing.service.visits import VisitInput, add_visits, visits_of

# The public face, with the tracing tables and enums callers have always reached through it. The private
# helpers imported ``as`` themselves above are re-exported too, for the spreadsheet import
# (``tracing.imports``), which shares them with these use cases.
__all__ = [
    "ISOLATING_STAGES",
    "MAX_PAGE_SIZE",
    "AreaCurve",
    "Case",
    "CaseCounts",
    "CaseDetail",
    "CaseFilter",
    "CaseHistory",
    "CaseInput",
    "CaseRow",
    "CaseUpdate",
    "Certainty",
    "ChainLink",
    "Classification",
    "Contact",
    "ContactCategory",
    "ContactDetail",
    "ContactFilter",
    "ContactRow",
    "ContactStatus",
    "CurveNowcast",
    "Exposure",
    "ExposureInput",
    "LinkView",
    "Outcome",
    "Page",
    "PlaceGroup",
    "PlaceKind",
    "Visit",
    "VisitInput",
    "actor",
    "add_exposures",
    "add_link",
    "add_visits",
    "area_counts",
    "case_by_ref",
    "case_count_rows",
    "case_counts",
    "case_detail",
    "case_figures",
    "case_rows",
    "cases_by_place",
    "close_contacts_isolated",
    "community_choices",
    "contact_detail",
    "contact_rows",
    "contacts_count",
    "contacts_identified",
    "convert_contact",
    "county_choices",
    "county_code_of",
    "daily_case_counts",
    "exposures_of",
    "first_isolation",
    "found_day",
    "get_case",
    "get_contact",
    "has_cases",
    "index_cases_of_sources",
    "index_timing",
    "isolation_of",
    "links_of",
    "list_cases",
    "list_contacts",
    "merge_clusters",
    "onset_nowcast",
    "onset_report_pairs",
    "override_contact",
    "persons_key",
    "reclassify_case",
    "reclassify_contacts",
    "register_case",
    "remove_exposure",
    "remove_link",
    "report_facts",
    "serial_interval",
    "serial_interval_dict",
    "transmission_intervals",
    "update_case",
    "visits_of",
]
