"""Every audit action the code records has a label in words (the audit page must not show raw keys)."""

from __future__ import annotations

import ast
import typing
from pathlib import Path

from fangkong.core.audit_labels import ACTION_LABELS, OBJECT_LABELS

SRC = Path(__file__).resolve().parents[3] / "src" / "fangkong"


def _recorded() -> tuple[set[str], set[str], list[str]]:
    """Actions and object types written as literals in ``audit.record(...)`` (and tracing's ``_record``),
    and the places where an action is computed (checked one by one below)."""
    actions: set[str] = set()
    objects: set[str] = set()
    computed: list[str] = []
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if (
                isinstance(func, ast.Attribute)
                and func.attr == "record"
                and getattr(func.value, "id", "") == "audit"
            ):
                action_at, object_at = 2, 3
            elif isinstance(func, ast.Name) and func.id == "_record" and path.name == "assist.py":
                action_at, object_at = 3, None
            else:
                continue
            action = node.args[action_at] if len(node.args) > action_at else None
            choices = [action.body, action.orelse] if isinstance(action, ast.IfExp) else [action]
            for choice in choices:
                if isinstance(choice, ast.Constant) and isinstance(choice.value, str):
                    actions.add(choice.value)
                else:
                    computed.append(f"{path.relative_to(SRC)}:{node.lineno}")
            if object_at is not None and len(node.args) > object_at:
                kind = node.args[object_at]
                if isinstance(kind, ast.Constant) and isinstance(kind.value, str):
                    objects.add(kind.value)
    return actions, objects, computed


def test_every_recorded_action_and_object_has_a_label() -> None:
    actions, objects, _ = _recorded()
    assert len(actions) > 40  # the scan found the calls
    assert sorted(actions - set(ACTION_LABELS)) == []
    assert sorted(objects - set(OBJECT_LABELS)) == []


def test_every_computed_action_has_a_label() -> None:
    from fangkong.surveillance.rules import TRANSITIONS
    from fangkong.surveillance.service import _SWITCH_NAMES
    from fangkong.tracing.exports import ExportKind
    from fangkong.tracing.spreadsheets import Kind

    _, _, computed = _recorded()
    # The places that compute an action; a new one must be added here with what it can produce.
    # (tracing/assist.py is the ``_record`` helper itself, whose callers the scan reads.)
    assert {c.split(":")[0] for c in computed} == {
        "surveillance/alerts.py",
        "surveillance/service/common.py",
        "tracing/assist.py",
        "tracing/exports.py",
        "tracing/imports/exposures.py",
    }, computed
    produced = {f"surveillance.alert.{a}" for a in TRANSITIONS}
    produced |= {action for _, action, _ in _SWITCH_NAMES.values()}
    produced |= {f"{kind}.export" for kind in typing.get_args(ExportKind)}
    produced |= {f"cases.import_{kind}" for kind in typing.get_args(Kind) if kind != "cases"}
    assert sorted(produced - set(ACTION_LABELS)) == []
    assert {kind for _, _, kind in _SWITCH_NAMES.values()} <= set(OBJECT_LABELS)
