"""Pure decisions of the response capability: deadlines, closure diffs, metrics, timeliness."""
