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


_P = Permission
_EVERYONE = {_P.jurisdictions_read, _P.protocol_read}
_FIELD = _EVERYONE | {_P.people_read}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.administrator: frozenset(
        _FIELD
        | {
            _P.jurisdictions_manage,
            _P.people_write,
            _P.people_import,
            _P.people_export,
            _P.users_manage,
            _P.audit_read,
            _P.protocol_manage,
        }
    ),
    Role.command_centre: frozenset(_FIELD | {_P.audit_read, _P.people_export, _P.analytics_run}),
    Role.surveillance_analyst: frozenset(_EVERYONE | {_P.analytics_run}),
    Role.investigator: frozenset(_FIELD | {_P.people_write, _P.people_reveal, _P.people_export}),
    Role.quarantine_manager: frozenset(_FIELD | {_P.people_reveal}),
    Role.testing_coordinator: frozenset(_FIELD),
    Role.laboratory: frozenset(_FIELD),
    Role.community_worker: frozenset(
        _FIELD | {_P.people_write, _P.people_import, _P.people_export, _P.people_reveal}
    ),
    Role.viewer: frozenset(_EVERYONE),
}


def role_can(role: Role, permission: Permission) -> bool:
    return permission in ROLE_PERMISSIONS[role]
