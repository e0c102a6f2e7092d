"""Use cases of rapid response and command, one module per thing a user does.

- :mod:`.templates`: the task templates administrators edit, seeded with the defaults;
- :mod:`.opening`, :mod:`.handlers`: tasks opened in parallel by events, and closed by the records that
  fulfil them;
- :mod:`.tasks`: the task lists and what an owner does with a task (assign, start, complete, cancel);
- :mod:`.sweeper`: the deadline clocks (warn, notify the supervisor, escalate), once however many run;
- :mod:`.closure`: the daily closure (日清日结), frozen and versioned; :mod:`.report` renders it;
- :mod:`.counters`, :mod:`.dashboard`, :mod:`.accountability`: the command dashboard and its figures.
"""
