"""Risk areas and arrivals: designation and lifting by rule, the public page, arrivals, checkpoints, doorstep services."""
