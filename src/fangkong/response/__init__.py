"""Rapid response and command: tasks with deadline clocks opened by events in parallel, escalation,
the daily closure (日清日结), the command dashboard and the daily report."""
