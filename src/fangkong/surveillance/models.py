"""Tables of the surveillance capability."""

from __future__ import annotations
