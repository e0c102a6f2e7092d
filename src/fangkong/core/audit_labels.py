"""What the audit log's stored keys mean, in words: one message id per action and per kind of object.

The log stores keys (``cases.register``, ``assist_request``) so that it never changes with the wording;
pages show these labels through the message catalog instead. A key missing here is shown as it is
stored, so a new action still appears; ``tests/unit/core/test_core_audit_labels.py`` finds every action
the code records and fails until it has a label.
"""

from __future__ import annotations

from typing import Final

ACTION_LABELS: Final[dict[str, str]] = {
    "auth.login": "Signed in",
    "auth.logout": "Signed out",
    "users.create": "Created a user",
    "users.activate": "Enabled a user",
    "users.deactivate": "Disabled a user",
    "users.token": "Issued an access token",
    "people.register": "Registered a resident",
    "people.reveal": "Viewed a resident's full personal data",
    "people.import": "Imported a resident file",
    "people.export": "Exported residents",
    "jurisdictions.import": "Imported a jurisdiction list",
    "jurisdictions.sandbox": "Created a drill sandbox",
    "cases.register": "Reported a case",
    "cases.update": "Changed a case",
    "cases.reclassify": "Reclassified a case",
    "cases.visits": "Recorded a case's places visited",
    "cases.exposures": "Recorded exposures",
    "cases.exposure_removed": "Removed an exposure",
    "cases.link": "Linked cases in a chain",
    "cases.unlink": "Removed a chain link",
    "cases.import": "Imported a case file",
    "cases.import_exposures": "Imported an exposure file",
    "cases.import_contacts": "Imported a contact list",
    "cases.export": "Exported cases",
    "contacts.export": "Exported contacts",
    "exposures.export": "Exported exposures",
    "contacts.override": "Changed a contact's category",
    "contacts.convert": "Turned a contact into a case",
    "assist.send": "Sent an assist request",
    "assist.acknowledge": "Acknowledged an assist request",
    "assist.decline": "Declined an assist request",
    "assist.locate": "Located the person of an assist request",
    "assist.apply_plan": "Put an assist request's person under management",
    "assist.report": "Reported an assist request's outcome",
    "assist.reveal": "Viewed an assist request's personal data",
    "protocol.switch": "Switched the protocol in force",
    "protocol.upload": "Uploaded a protocol",
    "surveillance.run": "Ran the detectors",
    "surveillance.observations.ingest": "Reported surveillance data",
    "surveillance.channel.create": "Added a monitoring channel",
    "surveillance.channel.active": "Switched a monitoring channel on or off",
    "surveillance.config.create": "Added a detector",
    "surveillance.config.active": "Switched a detector on or off",
    "surveillance.rule.create": "Added a fusion rule",
    "surveillance.rule.active": "Switched a fusion rule on or off",
    "surveillance.endpoint.create": "Added a notification endpoint",
    "surveillance.pull_source.create": "Added a data source to pull",
    "surveillance.locations.set": "Set area locations",
    "surveillance.neighbours.set": "Set neighbouring areas",
    "surveillance.alert.verify": "Started verifying an alert",
    "surveillance.alert.confirm": "Confirmed an alert as an event",
    "surveillance.alert.dismiss": "Dismissed an alert",
    "surveillance.alert.escalate": "Escalated an overdue alert",
    "modeling.comparison": "Ran a strategy comparison",
    "modeling.case_counts": "Uploaded daily case counts",
    "drills.start": "Started a drill",
    "drills.stop": "Stopped a drill",
}
"""audit action key -> English message id of what was done."""

OBJECT_LABELS: Final[dict[str, str]] = {
    "user": "User",
    "person": "Resident",
    "jurisdiction": "Jurisdiction",
    "case": "Case",
    "cases": "Cases",
    "contact": "Contact",
    "contacts": "Contacts",
    "exposure": "Exposure",
    "exposures": "Exposures",
    "assist_request": "Assist request",
    "protocol": "Protocol",
    "alert": "Alert",
    "channel": "Monitoring channel",
    "detector_config": "Detector",
    "fusion_rule": "Fusion rule",
    "notifier_endpoint": "Notification endpoint",
    "pull_source": "Data source",
    "detector_run": "Detector run",
    "ingest_batch": "Data batch",
    "modeling_job": "Modelling job",
    "case_count": "Daily case counts",
    "drill": "Drill",
}
"""audit object type -> English message id of the kind of object."""

EVERY_OBJECT = "*"
"""the object id of an entry about many objects at once (an import, an export)."""
