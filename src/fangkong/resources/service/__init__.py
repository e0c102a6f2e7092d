"""Use cases of the resources capability, one module per line of work; this is their public face."""

from fangkong.resources.service import deployments, overview, roster, staff, supplies, teams, training

__all__ = ["deployments", "overview", "roster", "staff", "supplies", "teams", "training"]
