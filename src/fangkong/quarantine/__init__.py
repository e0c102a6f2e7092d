"""Quarantine sites: the reserve list, tier-by-tier activation, placement in rooms, transfer, census."""
