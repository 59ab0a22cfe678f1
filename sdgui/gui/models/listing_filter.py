"""The name filter over a listing's rows: the casefolded names kept beside the lists they belong to, so that a key
typed into the filter tests 100,000 names in C (``map``/``compress``) rather than looking each one up.

The model's lists of entries only ever grow at their end (a batch appended) or are replaced by new lists (a sort, a
merge, a filter); a cache keyed on the list object and extended to its length stays right under both.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from itertools import compress, repeat
from operator import contains
from typing import Any

from sdgui.core.backends.base import Entry
from sdgui.gui.models.listing_order import NamesOfKeys

_CACHED_LISTS = 8
"""Lists whose names are kept, the most recently used: every arrived entry, the rows, the rows of the filters before
(backspaces)."""
_BISECT_UP_TO = 1000
"""Up to this many selected or current cells are looked up by key in the new order; more, by one pass over it."""


class FoldedNames:
    """The casefolded name of every entry of a few lists of entries, in the lists' order (a name does not depend on
    the sort, so a list keeps its names across sorts)."""

    def __init__(self) -> None:
        self._lists: list[tuple[list[Entry], list[str]]] = []  # most recently used last

    def of(self, rows: list[Entry], keys: list[Any], names: NamesOfKeys) -> list[str]:
        """The casefolded names of ``rows`` (sorted by ``keys``, whose names ``names`` reads), worked out only for
        entries not seen in this list before."""
        folded = self._find(rows)
        if folded is None:
            folded = []
        self.keep(rows, folded)
        if len(folded) < len(rows):
            folded.extend(names(keys[len(folded) :]))
        return folded

    def keep(self, rows: list[Entry], folded: list[str]) -> None:
        """Remember ``folded`` as the names of ``rows`` (a filter's result, worked out with it)."""
        self._lists = [pair for pair in self._lists if pair[0] is not rows][-(_CACHED_LISTS - 1) :]
        self._lists.append((rows, folded))

    def _find(self, rows: list[Entry]) -> list[str] | None:
        for pair in self._lists:
            if pair[0] is rows:
                return pair[1]
        return None


def matching(
    needle: str, keys: list[Any], rows: list[Entry], folded: list[str]
) -> tuple[list[Any], list[Entry], list[str]]:
    """The keys, entries and names of the entries whose casefolded name contains ``needle``, in order."""
    chosen = list(map(contains, folded, repeat(needle)))
    return list(compress(keys, chosen)), list(compress(rows, chosen)), list(compress(folded, chosen))


def new_rows(
    entries: list[Entry | None], rows: list[Entry], keys: list[Any], order: Callable[[Entry], Any]
) -> list[int | None]:
    """Where each of ``entries`` stands in ``rows`` (sorted by ``keys``, each ``order(entry)``), None where it is
    not there; None stays None. A few are found by binary search, many by one pass over the rows."""
    if len(entries) > _BISECT_UP_TO:
        where = {id(entry): row for row, entry in enumerate(rows)}
        return [None if entry is None else where.get(id(entry)) for entry in entries]
    found: list[int | None] = []
    for entry in entries:
        row = None
        if entry is not None:
            key = order(entry)
            at = bisect.bisect_left(keys, key)
            while at < len(rows) and keys[at] == key:
                if rows[at] is entry:
                    row = at
                    break
                at += 1
        found.append(row)
    return found
