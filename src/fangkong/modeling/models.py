"""Tables of the modeling capability."""

from __future__ import annotations
