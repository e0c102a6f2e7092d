"""Read protocol files: YAML with line numbers, parameters resolved, every problem named by key and line.

A protocol file is parsed with ruamel.yaml so that each key and list item keeps its line. Values the
sources leave open are declared once under ``parameters`` and used elsewhere as ``{param: name}``;
callers may override them (a jurisdiction's setting, or a test running day 0 and day 1). A file with any
problem is refused as a whole with a :class:`ProtocolError` that lists ``(path, line, message)``, so a
caller holding a protocol in force simply keeps it.
"""

from __future__ import annotations

import copy
import datetime as dt
import difflib
import functools
import types
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, NamedTuple, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, MarkedYAMLFutureWarning, YAMLError

from fangkong.protocol.checks import document_problems
from fangkong.protocol.schema import DEFER_CHECKS, Parameter, ParamValue, Protocol

BUILTIN_DIR = Path(__file__).with_name("files")
DEFAULT_PROTOCOL_ID = "cn-9"
"""The protocol in force where an administrator has chosen none: China's 9th edition (protocols.md §1)."""

_Key = str | int
_Path = tuple[_Key, ...]


class ProtocolIssue(NamedTuple):
    """One problem in a protocol file: the key path, its line (1-based) if known, and what is wrong."""

    path: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"line {self.line}" if self.line is not None else "line ?"
        return f"{where}: {self.path or '<document>'}: {self.message}"


class ProtocolError(Exception):
    """A protocol file was refused; ``errors`` lists every problem found."""

    def __init__(self, source: str, errors: list[ProtocolIssue]) -> None:
        self.source = source
        self.errors = errors
        super().__init__(str(self))

    def __str__(self) -> str:
        lines = [f"{self.source}: protocol refused ({len(self.errors)} problem(s))"]
        lines.extend(f"  {issue}" for issue in self.errors)
        return "\n".join(lines)


def format_path(path: _Path) -> str:
    """``("categories", "close_contact", "stages", 0)`` → ``categories.close_contact.stages[0]``."""
    text = ""
    for key in path:
        if isinstance(key, int):
            text += f"[{key}]"
        else:
            text += f".{key}" if text else key
    return text


class _Document:
    """The plain data of a YAML file plus the line of every key and list item."""

    def __init__(self, root: Any) -> None:
        self.lines: dict[_Path, int] = {}
        self.from_parameter: dict[_Path, str] = {}
        self.data = self._plain(root, ())

    def copy(self) -> _Document:
        """A copy whose data may be changed (parameters applied) without touching this one."""
        twin = object.__new__(_Document)
        twin.lines = self.lines
        twin.from_parameter = {}
        twin.data = copy.deepcopy(self.data)
        return twin

    def _plain(self, node: Any, path: _Path) -> Any:
        if isinstance(node, Mapping):
            result: dict[Any, Any] = {}
            for key in node:
                line = _key_line(node, key)
                if line is not None:
                    self.lines[(*path, str(key))] = line
                result[str(key)] = self._plain(node[key], (*path, str(key)))
            return result
        if isinstance(node, list):
            items = []
            for i, item in enumerate(node):
                line = _item_line(node, i)
                if line is not None:
                    self.lines[(*path, i)] = line
                items.append(self._plain(item, (*path, i)))
            return items
        return _plain_scalar(node)

    def line_of(self, loc: tuple[Any, ...]) -> tuple[_Path, int | None]:
        """The key path of a validation location and its nearest known line.

        Pydantic adds union tags to locations; those are skipped because they are not keys of the file.
        An unmatched last element (an unknown or missing key) is kept in the path.
        """
        path: _Path = ()
        line = self.lines.get((), 1)
        for i, key in enumerate(loc):
            candidate = (*path, key)
            if candidate in self.lines:
                path = candidate
                line = self.lines[candidate]
            elif i == len(loc) - 1 and isinstance(key, str | int):
                path = candidate
        return path, line

    def parameter_behind(self, path: _Path) -> str | None:
        for end in range(len(path), 0, -1):
            name = self.from_parameter.get(path[:end])
            if name is not None:
                return name
        return None


def _key_line(node: Any, key: Any) -> int | None:
    try:
        return int(node.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _item_line(node: Any, index: int) -> int | None:
    try:
        return int(node.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, TypeError, IndexError):
        return None


def _plain_scalar(value: Any) -> Any:
    # ruamel's round-trip loader returns subclasses (ScalarFloat, LiteralScalarString, TimeStamp); strict
    # validation wants the plain types.
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, dt.datetime):
        return dt.datetime.fromisoformat(value.isoformat())
    return value


def _parse_yaml(text: str, source: str) -> Any:
    yaml = YAML(typ="rt")
    try:
        return yaml.load(text)
    except (MarkedYAMLError, MarkedYAMLFutureWarning) as exc:
        # The context mark is where the broken construct starts (an unclosed bracket or quote); the
        # problem mark is where the parser gave up, often a line later.
        mark = exc.context_mark or exc.problem_mark
        line = mark.line + 1 if mark is not None else None
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        if exc.context_mark is not None and exc.problem_mark is not None:
            message += f" (noticed on line {exc.problem_mark.line + 1})"
        raise ProtocolError(source, [ProtocolIssue("", line, f"not valid YAML: {message}")]) from None
    except YAMLError as exc:
        raise ProtocolError(source, [ProtocolIssue("", None, f"not valid YAML: {exc}")]) from None


def _resolve_parameters(
    doc: _Document, overrides: Mapping[str, ParamValue], issues: list[ProtocolIssue]
) -> dict[str, ParamValue]:
    """Validate the ``parameters`` section, apply overrides, and return the effective values."""
    raw = doc.data.get("parameters", {})
    if not isinstance(raw, dict):
        path = ("parameters",)
        issues.append(ProtocolIssue("parameters", doc.lines.get(path), "must be a mapping of parameters"))
        return {}
    values: dict[str, ParamValue] = {}
    for name, spec in raw.items():
        try:
            parameter = Parameter.model_validate(spec)
        except ValidationError as exc:
            issues.extend(_validation_issues(doc, exc, prefix=("parameters", name)))
            continue
        values[name] = parameter.effective
    for name, value in overrides.items():
        if name not in raw:
            issues.append(ProtocolIssue(f"parameters.{name}", None, "override of a parameter the file lacks"))
            continue
        raw[name] = {**raw[name], "value": value}
        values[name] = value
    return values


def _substitute(doc: _Document, values: dict[str, ParamValue], issues: list[ProtocolIssue]) -> None:
    def walk(node: Any, path: _Path) -> Any:
        if isinstance(node, dict):
            if set(node) == {"param"}:
                name = node["param"]
                if not isinstance(name, str) or name not in values:
                    line = doc.lines.get((*path, "param"), doc.lines.get(path))
                    issues.append(ProtocolIssue(format_path(path), line, f"unknown parameter {name!r}"))
                    return node
                doc.from_parameter[path] = name
                value = values[name]
                return list(value) if isinstance(value, list) else value
            return {key: walk(value, (*path, key)) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item, (*path, i)) for i, item in enumerate(node)]
        return node

    doc.data = {
        key: (value if key == "parameters" else walk(value, (key,))) for key, value in doc.data.items()
    }


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys the model accepts where ``loc`` points (its last element being the offending key)."""
    current: list[Any] = [Protocol]
    for key in loc[:-1]:
        current = [found for annotation in current for found in _step(annotation, key)]
    keys: set[str] = set()
    for annotation in current:
        for model in _models_in(annotation):
            keys.update(info.alias or name for name, info in model.model_fields.items())
    return sorted(keys)


def _flatten(annotation: Any) -> list[Any]:
    """The alternatives of a union (and of ``Annotated``), unwrapped."""
    if get_origin(annotation) is Annotated:
        return _flatten(get_args(annotation)[0])
    if get_origin(annotation) in (Union, types.UnionType):
        return [alt for arg in get_args(annotation) for alt in _flatten(arg)]
    return [annotation]


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    return [a for a in _flatten(annotation) if isinstance(a, type) and issubclass(a, BaseModel)]


def _step(annotation: Any, key: Any) -> list[Any]:
    found: list[Any] = []
    for option in _flatten(annotation):
        origin = get_origin(option)
        if isinstance(option, type) and issubclass(option, BaseModel):
            for name, info in option.model_fields.items():
                if key in (name, info.alias):
                    found.append(info.annotation)
            if "rule" in option.model_fields and key in get_args(option.model_fields["rule"].annotation):
                found.append(option)  # a discriminated-union tag in the location
        elif origin in (tuple, list) and isinstance(key, int):
            found.append(get_args(option)[0])
        elif origin is dict and isinstance(key, str):
            found.append(get_args(option)[1])
    return found


def _describe(error: Any) -> str:
    kind = error["type"]
    key = error["loc"][-1] if error["loc"] else ""
    if kind == "extra_forbidden":
        allowed = _allowed_keys(tuple(error["loc"]))
        close = difflib.get_close_matches(str(key), allowed, n=1)
        if close:
            return f"unknown key {key!r} (did you mean {close[0]!r}?)"
        return f"unknown key {key!r}" + (f" (allowed: {', '.join(allowed)})" if allowed else "")
    if kind == "missing":
        return f"missing required key {key!r}"
    message = str(error["msg"])
    if "input" in error and not isinstance(error["input"], dict | list):
        message += f" (got {error['input']!r})"
    return message


def _validation_issues(doc: _Document, exc: ValidationError, prefix: _Path = ()) -> list[ProtocolIssue]:
    issues = []
    for error in exc.errors():
        path, line = doc.line_of(prefix + tuple(error["loc"]))
        message = _describe(error)
        parameter = doc.parameter_behind(path)
        if parameter is not None:
            message += f" (value of parameter {parameter!r})"
        issues.append(ProtocolIssue(format_path(path), line, message))
    return issues


@functools.lru_cache(maxsize=32)
def _read_document(text: str, source: str) -> _Document:
    # Parsing with line numbers is the slow part of loading; the same text is parsed once.
    root = _parse_yaml(text, source)
    if not isinstance(root, Mapping):
        raise ProtocolError(source, [ProtocolIssue("", 1, "a protocol file must be a mapping of keys")])
    return _Document(root)


def parse_protocol(
    text: str, source: str = "<string>", overrides: Mapping[str, ParamValue] | None = None
) -> Protocol:
    """Validate the text of a protocol file; raise :class:`ProtocolError` listing every problem."""
    doc = _read_document(text, source).copy()
    issues: list[ProtocolIssue] = []
    values = _resolve_parameters(doc, overrides or {}, issues)
    _substitute(doc, values, issues)
    if issues:
        raise ProtocolError(source, issues)
    try:
        protocol = Protocol.model_validate(doc.data, context={DEFER_CHECKS: True})
    except ValidationError as exc:
        raise ProtocolError(source, _validation_issues(doc, exc)) from None
    problems = document_problems(protocol)
    if problems:
        found = []
        for path, message in problems:
            key_path, line = doc.line_of(path)
            parameter = doc.parameter_behind(key_path)
            if parameter is not None:
                message += f" (value of parameter {parameter!r})"
            found.append(ProtocolIssue(format_path(path), line, message))
        raise ProtocolError(source, found)
    return protocol


def load_protocol(path: str | Path, overrides: Mapping[str, ParamValue] | None = None) -> Protocol:
    """Load and validate one protocol file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProtocolError(str(file), [ProtocolIssue("", None, f"cannot read: {exc.strerror}")]) from None
    return parse_protocol(text, str(file), overrides)


def builtin_ids() -> list[str]:
    """Ids of the protocols shipped with fangkong, in file-name order."""
    return sorted(path.stem for path in BUILTIN_DIR.glob("*.yaml"))


@functools.cache
def _builtin(protocol_id: str) -> Protocol:
    return _load_builtin_file(protocol_id, None)


_WITH_OVERRIDES: dict[tuple[str, str], Protocol] = {}


def _load_builtin_file(protocol_id: str, overrides: Mapping[str, ParamValue] | None) -> Protocol:
    if protocol_id not in builtin_ids():
        known = ", ".join(builtin_ids())
        raise KeyError(f"no built-in protocol {protocol_id!r} (known: {known})")
    protocol = load_protocol(BUILTIN_DIR / f"{protocol_id}.yaml", overrides)
    if protocol.id != protocol_id:
        issue = ProtocolIssue("id", None, f"file {protocol_id}.yaml declares id {protocol.id!r}")
        raise ProtocolError(protocol_id, [issue])
    return protocol


def load_builtin(protocol_id: str, overrides: Mapping[str, ParamValue] | None = None) -> Protocol:
    """A shipped protocol by id (``cn-9``, ``who-2021``...), with parameters optionally overridden."""
    if not overrides:
        return _builtin(protocol_id)
    # Protocols are immutable, so one load per (id, overrides) can be shared.
    key = (protocol_id, repr(sorted(overrides.items())))
    if key not in _WITH_OVERRIDES:
        if len(_WITH_OVERRIDES) >= 256:
            _WITH_OVERRIDES.clear()
        _WITH_OVERRIDES[key] = _load_builtin_file(protocol_id, overrides)
    return _WITH_OVERRIDES[key]


def list_builtin() -> list[Protocol]:
    """Every shipped protocol, oldest first."""
    return sorted((_builtin(pid) for pid in builtin_ids()), key=lambda p: (p.effective, p.id))


def load_any(reference: str, overrides: Mapping[str, ParamValue] | None = None) -> Protocol:
    """A built-in id or a path to a file, whichever ``reference`` names."""
    if reference in builtin_ids():
        return load_builtin(reference, overrides)
    return load_protocol(reference, overrides)
