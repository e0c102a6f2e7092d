"""The layering rule of DESIGN.md, checked on the source: a capability never imports another capability's
``models`` (it reads another capability's data through that capability's ``service``, which names the
words, such as enums, that callers need). A new import that breaks the rule fails here with its file and
line, before a reviewer has to spot it."""

from __future__ import annotations

import ast
from pathlib import Path

import fangkong

ROOT = Path(fangkong.__file__).parent
# core is the shared foundation every capability builds on: its models are everyone's.
SHARED = {"core"}


def _capabilities() -> set[str]:
    return {p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file()}


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found.extend((node.lineno, f"{node.module}.{a.name}") for a in node.names)
        elif isinstance(node, ast.Import):
            found.extend((node.lineno, a.name) for a in node.names)
    return found


def test_no_capability_imports_another_capabilitys_models() -> None:
    capabilities = _capabilities()
    assert {"tracing", "testing", "quarantine", "modeling"} <= capabilities
    broken: set[str] = set()
    for path in sorted(ROOT.rglob("*.py")):
        own = path.relative_to(ROOT).parts[0]
        for line, module in _imported_modules(ast.parse(path.read_text(encoding="utf-8"))):
            parts = module.split(".")
            if len(parts) < 3 or parts[0] != "fangkong" or parts[2] != "models":
                continue
            if parts[1] in capabilities and parts[1] not in SHARED and parts[1] != own:
                broken.add(f"{path.relative_to(ROOT)}:{line} imports {'.'.join(parts[:3])}")
    assert sorted(broken) == []


def test_the_check_sees_a_forbidden_import() -> None:
    # The walk above must find both spellings of the import it forbids, or the rule would pass by blindness.
    tree = ast.parse("from fangkong.testing.models import TestResult\nfrom fangkong.testing import models\n")
    seen = {m for _, m in _imported_modules(tree)}
    assert {"fangkong.testing.models", "fangkong.testing.models.TestResult"} <= seen
