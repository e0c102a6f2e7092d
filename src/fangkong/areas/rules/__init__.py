"""Pure decisions of the areas capability (no I/O): proposals, the lifting clock, arrival categories."""
