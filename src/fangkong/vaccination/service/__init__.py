"""Use cases of the vaccination capability, one module per kind of work: doses and their import, status
evaluation, coverage, outreach, adverse events.

It names the words other capabilities (the drill) use when they record outreach: how and with what outcome."""

from fangkong.vaccination.models import OutreachMethod, OutreachOutcome

__all__ = ["OutreachMethod", "OutreachOutcome"]
