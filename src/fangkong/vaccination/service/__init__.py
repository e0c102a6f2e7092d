"""Use cases of the vaccination capability, one module per kind of work: doses and their import, status
evaluation, coverage, outreach, adverse events."""
