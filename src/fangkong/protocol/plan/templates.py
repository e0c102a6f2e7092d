"""Compiling a protocol's categories into plan templates once, kept in a small book per protocol (an
undefined category gets a template that manages nobody).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from fangkong.protocol.plan.model import DueTestTemplate, PlanTemplate, StageTemplate
from fangkong.protocol.schema import Category, Protocol


def _compile(protocol: Protocol, name: str, category: Category) -> PlanTemplate:
    stages: list[StageTemplate] = []
    tests: list[DueTestTemplate] = []
    before = 0
    for number, stage in enumerate(category.stages, start=1):
        stages.append(
            StageTemplate(
                number=number,
                type=stage.type,
                place=stage.place,
                alternative_place=stage.alternative_place,
                may_leave_home=stage.may_leave_home,
                daily_health_check=stage.daily_health_check,
                days=stage.days,
                first_day=before + 1,
                last_day=before + stage.days,
                exit=stage.exit,
                note=stage.note,
            )
        )
        for schedule in stage.tests:
            for stage_day in schedule.days:
                tests.append(
                    DueTestTemplate(
                        plan_day=before + stage_day,
                        stage_number=number,
                        stage_day=stage_day,
                        method=schedule.method,
                        specimen=schedule.specimen,
                        note=schedule.note,
                    )
                )
        before += stage.days
    tests.sort(key=lambda t: (t.plan_day, t.method))
    return PlanTemplate(
        protocol_id=protocol.id,
        category=name,
        label=category.label,
        defined=True,
        identified=category.identified,
        clock=category.clock,
        clock_event_day=protocol.clock_event_day,
        stages=tuple(stages),
        tests=tuple(tests),
        release=category.release,
        screening=category.screening,
        total_days=before,
        on_release=category.on_release,
        note=category.note,
    )


def _undefined(protocol: Protocol, name: str) -> PlanTemplate:
    return PlanTemplate(
        protocol_id=protocol.id,
        category=name,
        label=name,
        defined=False,
        identified=False,
        clock=None,
        clock_event_day=protocol.clock_event_day,
        stages=(),
        tests=(),
        release=(),
        screening=None,
        total_days=0,
        on_release=None,
        note=f"{protocol.id} does not define the category {name!r}",
    )


@dataclass
class _TemplateBook:
    protocol: Protocol
    templates: dict[str, PlanTemplate]
    undefined: dict[str, PlanTemplate] = field(default_factory=dict)

    def get(self, name: str) -> PlanTemplate:
        found = self.templates.get(name)
        if found is not None:
            return found
        if name not in self.undefined:
            self.undefined[name] = _undefined(self.protocol, name)
        return self.undefined[name]


_BOOKS: OrderedDict[int, _TemplateBook] = OrderedDict()
_BOOK_LIMIT = 64


def _book(protocol: Protocol) -> _TemplateBook:
    # Keyed by identity and holding the protocol, so an id is never reused while cached.
    key = id(protocol)
    book = _BOOKS.get(key)
    if book is not None and book.protocol is protocol:
        _BOOKS.move_to_end(key)
        return book
    book = _TemplateBook(
        protocol, {name: _compile(protocol, name, c) for name, c in protocol.categories.items()}
    )
    _BOOKS[key] = book
    if len(_BOOKS) > _BOOK_LIMIT:
        _BOOKS.popitem(last=False)
    return book


def plan_templates(protocol: Protocol) -> Mapping[str, PlanTemplate]:
    """The compiled template of every category of ``protocol``."""
    return dict(_book(protocol).templates)
