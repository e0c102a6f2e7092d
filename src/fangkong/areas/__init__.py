"""Risk areas and arrivals: designation and lifting by rule, the public page, arrival registration,
checkpoints and doorstep services."""
