"""Modelling bench: Rt estimation, scenario simulation, strategy comparison ("the account") and drills."""
