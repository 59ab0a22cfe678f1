"""The order of a listing's rows: folders first in either direction, then a column's key; and the merge that puts a
sorted batch into sorted rows without comparing the rows' keys again."""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from enum import IntEnum
from operator import attrgetter, itemgetter
from typing import Any

from PySide6.QtCore import Qt

from sdgui.core.backends.base import Entry


class Column(IntEnum):
    NAME = 0
    SIZE = 1
    MODIFIED = 2
    KIND = 3


HEADERS = ("Name", "Size", "Modified", "Kind")

OrderKey = Callable[[Entry], Any]
NameKey = Callable[[Entry], tuple[str, str]]
NamesOfKeys = Callable[[Iterable[Any]], Iterator[str]]


def name_key(entry: Entry) -> tuple[str, str]:
    """An entry's name casefolded, then as it is: the order of names (and what the filter matches, first)."""
    name = entry.name
    return name.casefold(), name


def column_key(column: int, kind: Callable[[Entry], str], names: NameKey = name_key) -> OrderKey:
    """The key of one column (ties broken by name); ``kind`` names an entry's type for the Kind column, ``names``
    gives ``name_key`` (a model with 100,000 rows looks it up rather than working it out for every sort)."""
    if column == Column.SIZE:
        return lambda e: (e.size, names(e))
    if column == Column.MODIFIED:
        return lambda e: (e.modified.timestamp() if e.modified else float("-inf"), names(e))
    if column == Column.KIND:
        return lambda e: (kind(e).casefold(), names(e))
    return names


def order_key(column: int, order: Qt.SortOrder, kind: Callable[[Entry], str], names: NameKey = name_key) -> OrderKey:
    """A key whose ascending order is the shown order: folders first in either direction, then the column's key,
    reversed when descending. Rows keep theirs, so merging a batch compares no new keys."""
    key = column_key(column, kind, names)
    if order == Qt.SortOrder.DescendingOrder:
        return lambda e: (not e.is_dir, _Reversed(key(e)))
    return lambda e: (not e.is_dir, key(e))


def folded_names(column: int, order: Qt.SortOrder) -> NamesOfKeys:
    """The casefolded names inside keys of ``order_key(column, order, …)``, read in C (``map`` of getters): the
    filter tests 100,000 names faster than it could look them up by entry."""
    steps: list[Callable[[Any], Any]] = [itemgetter(1)]  # past "not a folder"
    if order == Qt.SortOrder.DescendingOrder:
        steps.append(attrgetter("key"))  # out of _Reversed
    if column in (Column.SIZE, Column.MODIFIED, Column.KIND):
        steps.append(itemgetter(1))  # past the column's own key
    steps.append(itemgetter(0))  # name_key: casefolded, as it is

    def names(keys: Iterable[Any]) -> Iterator[str]:
        found: Iterator[Any] = iter(keys)
        for step in steps:
            found = map(step, found)
        return found

    return names


def keyed(entries: Sequence[Entry], order: OrderKey) -> tuple[list[Any], list[Entry]]:
    """``entries`` in ``order``, with their order keys."""
    pairs = sorted(((order(entry), entry) for entry in entries), key=_first)
    return [key for key, _ in pairs], [entry for _, entry in pairs]


def merged(
    head_keys: list[Any], head: list[Entry], tail_keys: list[Any], tail: list[Entry]
) -> tuple[list[Any], list[Entry]]:
    """Two sorted runs as one: a binary search per tail row over the head's cached keys, then one pass that splices
    the two lists."""
    rows: list[Entry] = []
    keys: list[Any] = []
    start = 0
    for key, entry in zip(tail_keys, tail, strict=True):
        position = bisect.bisect_right(head_keys, key, lo=start)  # non-decreasing: the tail is sorted
        rows.extend(head[start:position])
        keys.extend(head_keys[start:position])
        rows.append(entry)
        keys.append(key)
        start = position
    rows.extend(head[start:])
    keys.extend(head_keys[start:])
    return keys, rows


def merged_into(
    keys: list[Any], rows: list[Entry], new_keys: list[Any], new_rows: list[Entry]
) -> tuple[list[Any], list[Entry]]:
    """``merged``, extending ``keys`` and ``rows`` in place when the batch sorts after them (a listing in key
    order)."""
    if not keys or keys[-1] <= new_keys[0]:
        keys.extend(new_keys)
        rows.extend(new_rows)
        return keys, rows
    return merged(keys, rows, new_keys, new_rows)


def _first(pair: tuple[Any, Entry]) -> Any:
    return pair[0]


class _Reversed:
    """Wraps a key so that it sorts in the opposite order (descending columns, with folders still first)."""

    __slots__ = ("key",)

    def __init__(self, key: Any) -> None:
        self.key = key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversed) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __lt__(self, other: _Reversed) -> bool:
        return bool(other.key < self.key)

    def __le__(self, other: _Reversed) -> bool:
        return bool(other.key <= self.key)
