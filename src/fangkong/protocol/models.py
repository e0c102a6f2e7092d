"""Tables of the protocol capability."""

from __future__ import annotations
