"""The shared kernel: storage, jurisdictions, people, users and roles, audit, events, i18n, clock."""
