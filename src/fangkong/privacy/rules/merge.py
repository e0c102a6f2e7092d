"""Merging duplicate people: how long the undo stays possible."""

from __future__ import annotations

# A week: a wrong merge is usually noticed at the next contact with the person (the daily visit of a
# plan, a test), and until the window closes the merged entry is kept so the undo loses nothing.
UNDO_WINDOW_DAYS = 7
