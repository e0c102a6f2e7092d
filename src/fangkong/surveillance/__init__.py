"""Surveillance and early warning: channels, observations, detector runs, fusion, alerts."""
