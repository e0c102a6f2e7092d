"""Pure decisions of the vaccination capability (no I/O): the dose schedule and eligibility, age bands
and coverage measures, outreach reminders, AEFI deadlines and lot signals."""
