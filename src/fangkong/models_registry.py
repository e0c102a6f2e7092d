"""Imports every capability's tables so that Alembic and ``create_all`` see the whole schema."""

from __future__ import annotations

import importlib

MODEL_MODULES = (
    "fangkong.core.models",
    "fangkong.protocol.models",
    "fangkong.tracing.models",
    "fangkong.surveillance.models",
    "fangkong.modeling.models",
    "fangkong.quarantine.models",
    "fangkong.testing.models",
    "fangkong.areas.models",
    "fangkong.response.models",
    "fangkong.vaccination.models",
    "fangkong.privacy.models",
    "fangkong.resources.models",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
