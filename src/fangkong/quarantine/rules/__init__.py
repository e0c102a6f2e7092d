"""Pure decisions of the quarantine capability (no I/O): placement, reserve standard, activation, forecast."""
