"""Pure decisions of the testing capability (no I/O): pool-size planning, round sizing and stop rules."""
