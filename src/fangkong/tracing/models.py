"""Tables of the tracing capability."""

from __future__ import annotations
