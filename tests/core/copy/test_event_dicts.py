"""Every event's to_dict (what --json prints) is what dataclasses.asdict gives, without asdict's deep copies:
each field of every event, the delete job's too, is a plain value or a list of them."""

from __future__ import annotations

import types
import typing
from dataclasses import asdict, fields
from enum import Enum
from typing import Any

import sdgui.core.copy.events as copy_events
import sdgui.core.delete as delete_events
from sdgui.core.copy.events import JobEvent


def _every_event() -> list[type[JobEvent]]:
    found = {JobEvent}
    for module in (copy_events, delete_events):
        found |= {c for c in vars(module).values() if isinstance(c, type) and issubclass(c, JobEvent)}
    return sorted(found, key=lambda c: c.__name__)


def _sample(hint: Any, name: str) -> Any:
    origin = typing.get_origin(hint)
    if origin is typing.Literal:
        return typing.get_args(hint)[0]
    if origin is list:
        return [f"{name}-1", f"{name}-2"]
    if origin in (typing.Union, types.UnionType):
        return _sample(next(a for a in typing.get_args(hint) if a is not type(None)), name)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return next(iter(hint))
    return {str: name, int: 7, float: 0.5, bool: True}[hint]


def test_to_dict_is_asdict_for_every_event() -> None:
    events = _every_event()
    assert len(events) > 15
    for cls in events:
        hints = typing.get_type_hints(cls)
        event = cls(**{f.name: _sample(hints[f.name], f.name) for f in fields(cls)})
        got = event.to_dict()
        assert got == {"type": cls.type, **asdict(event)}, cls
        for name, value in got.items():
            if isinstance(value, list):
                assert value is not getattr(event, name)  # a copy: changing the dict leaves the event as it was
