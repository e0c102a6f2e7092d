"""What each role may do. Routes name a permission; this table is the only place roles are listed."""

from __future__ import annotations

import enum

from fangkong.core.models import Role


class Permission(enum.StrEnum):
    jurisdictions_read = "jurisdictions.read"
    jurisdictions_manage = "jurisdictions.manage"
    people_read = "people.read"
    people_write = "people.write"
    people_import = "people.import"
    people_export = "people.export"
    # Seeing full ID numbers, phones, names and addresses; every such read is audited.
    people_reveal = "people.reveal"
    users_manage = "users.manage"
    audit_read = "audit.read"
    protocol_read = "protocol.read"
    protocol_manage = "protocol.manage"
    analytics_run = "analytics.run"
    # Case investigation and tracing (流调溯源).
    cases_read = "cases.read"
    cases_write = "cases.write"
    assist_manage = "assist.manage"
    # Surveillance and early warning.
    surveillance_read = "surveillance.read"
    surveillance_write = "surveillance.write"
    surveillance_configure = "surveillance.configure"
    alerts_respond = "alerts.respond"
    # Modelling, the strategy account and drills.
    modeling_read = "modeling.read"
    modeling_run = "modeling.run"
    drills_manage = "drills.manage"
    # Quarantine sites: the reserve list, rooms, placement, transfer, stays; activation needs approval.
    quarantine_read = "quarantine.read"
    quarantine_manage = "quarantine.manage"
    quarantine_approve = "quarantine.approve"
    # Testing: orders, regional rounds, sampling, lab results.
    testing_read = "testing.read"
    testing_manage = "testing.manage"
    testing_sample = "testing.sample"
    lab_results = "lab.results"
    # Risk areas (designation needs the command centre's approval), arrivals, checkpoints, doorstep.
    areas_read = "areas.read"
    areas_propose = "areas.propose"
    areas_approve = "areas.approve"
    arrivals_manage = "arrivals.manage"
    checkpoint_lookup = "checkpoint.lookup"
    doorstep_manage = "doorstep.manage"
    # Rapid response: tasks with deadline clocks, the daily closure (日清日结), dashboard and report.
    response_read = "response.read"
    tasks_work = "tasks.work"
    tasks_manage = "tasks.manage"
    templates_manage = "templates.manage"
    closure_publish = "closure.publish"
    # Vaccination: doses (sites record, administrators import), coverage, outreach, adverse events.
    vaccination_read = "vaccination.read"
    doses_record = "doses.record"
    doses_import = "doses.import"
    outreach_work = "outreach.work"
    aefi_report = "aefi.report"
    aefi_review = "aefi.review"
    # Resources: staff, certifications, teams, deployments and training; supplies and their moves.
    resources_read = "resources.read"
    resources_manage = "resources.manage"
    supplies_manage = "supplies.manage"
    # The personal-data lifecycle: retention rules and emergency purges, merging people, access
    # outside one's jurisdiction with a stated reason and its review.
    privacy_manage = "privacy.manage"
    people_merge = "people.merge"
    access_outside = "access.outside"
    access_review = "access.review"


_P = Permission
_EVERYONE = {_P.jurisdictions_read, _P.protocol_read}
_FIELD = _EVERYONE | {_P.people_read}

_CASES = {_P.cases_read, _P.cases_write, _P.assist_manage}
_WATCH = {_P.surveillance_read, _P.modeling_read, _P.response_read, _P.vaccination_read}
# Everyone who owns a line of work sees and works the tasks given to their role.
_TASKS = {_P.response_read, _P.tasks_work}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.administrator: frozenset(
        _FIELD
        | _WATCH
        | {
            _P.surveillance_configure,
            _P.drills_manage,
            _P.jurisdictions_manage,
            _P.people_write,
            _P.people_import,
            _P.people_export,
            _P.users_manage,
            _P.audit_read,
            _P.protocol_manage,
            _P.quarantine_read,
            _P.quarantine_manage,
            _P.testing_read,
            _P.areas_read,
            _P.templates_manage,
            _P.doses_import,
            _P.resources_read,
            _P.resources_manage,
            _P.supplies_manage,
        }
    ),
    Role.command_centre: frozenset(
        _FIELD
        | _WATCH
        | {
            _P.audit_read,
            _P.people_export,
            _P.analytics_run,
            _P.cases_read,
            _P.alerts_respond,
            _P.modeling_run,
            _P.drills_manage,
            _P.quarantine_read,
            _P.quarantine_approve,
            _P.testing_read,
            _P.areas_read,
            _P.areas_propose,
            _P.areas_approve,
            _P.doorstep_manage,
            _P.tasks_work,
            _P.tasks_manage,
            _P.templates_manage,
            _P.closure_publish,
            _P.aefi_review,
            # The command sends teams in support (支援) and moves supplies between jurisdictions.
            _P.resources_read,
            _P.resources_manage,
            _P.supplies_manage,
        }
    ),
    Role.surveillance_analyst: frozenset(
        _EVERYONE
        | _WATCH
        | {
            _P.analytics_run,
            _P.surveillance_write,
            _P.surveillance_configure,
            _P.alerts_respond,
            _P.tasks_work,
            _P.modeling_run,
            _P.areas_read,
            _P.aefi_review,
        }
    ),
    Role.investigator: frozenset(
        _FIELD
        | _CASES
        | _TASKS
        | {
            _P.people_write,
            _P.people_reveal,
            _P.people_export,
            _P.surveillance_read,
            _P.alerts_respond,
            _P.quarantine_read,
            _P.testing_read,
            _P.areas_read,
            _P.areas_propose,
            _P.arrivals_manage,
            _P.checkpoint_lookup,
        }
    ),
    # Quarantine sites receive the people other areas refer (协查) and report back on them.
    Role.quarantine_manager: frozenset(
        _FIELD
        | _TASKS
        | {
            _P.people_reveal,
            _P.cases_read,
            _P.assist_manage,
            _P.quarantine_read,
            _P.quarantine_manage,
            _P.testing_read,
            _P.resources_read,
            _P.supplies_manage,
        }
    ),
    Role.testing_coordinator: frozenset(
        _FIELD
        | _TASKS
        | {
            _P.cases_read,
            _P.testing_read,
            _P.testing_manage,
            _P.testing_sample,
            _P.resources_read,
            _P.supplies_manage,
        }
    ),
    Role.laboratory: frozenset(_FIELD | {_P.surveillance_write, _P.testing_read, _P.lab_results}),
    Role.community_worker: frozenset(
        _FIELD
        | _TASKS
        | {
            _P.people_write,
            _P.people_import,
            _P.people_export,
            _P.people_reveal,
            _P.cases_read,
            _P.assist_manage,
            _P.quarantine_read,
            _P.testing_read,
            _P.testing_sample,
            _P.areas_read,
            _P.arrivals_manage,
            _P.checkpoint_lookup,
            _P.doorstep_manage,
            # Community health centres run the vaccination sites and the outreach (应接尽接).
            _P.vaccination_read,
            _P.doses_record,
            _P.outreach_work,
            _P.aefi_report,
        }
    ),
    Role.viewer: frozenset(_EVERYONE | _WATCH | {_P.resources_read}),
}

# The personal-data lifecycle (fangkong.privacy): administrators set the rules and close emergencies;
# investigators and community workers merge the duplicates they find; those who handle arrivals and
# referred contacts may break the glass; administrators review it (the command centre's top bar has no
# room for one more page, and the review is the administrator's, who grants the accounts).
_PRIVACY: dict[Role, set[Permission]] = {
    Role.administrator: {_P.privacy_manage, _P.people_merge, _P.access_review},
    Role.investigator: {_P.people_merge, _P.access_outside},
    Role.community_worker: {_P.people_merge, _P.access_outside},
    Role.quarantine_manager: {_P.access_outside},
}
for _role, _extra in _PRIVACY.items():
    ROLE_PERMISSIONS[_role] = ROLE_PERMISSIONS[_role] | _extra
