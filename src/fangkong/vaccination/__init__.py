"""Vaccination: doses, each person's status from the rules, coverage against the registry, outreach to
the unvaccinated elderly (应接尽接) and adverse events following immunization."""
