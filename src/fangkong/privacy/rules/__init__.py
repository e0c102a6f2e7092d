"""Pure decisions of the personal-data lifecycle: record classes and their retention defaults, the
minimum period, the cut-off dates, break-the-glass reasons and durations, the merge undo window."""
