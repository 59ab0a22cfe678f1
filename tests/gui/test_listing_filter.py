"""The filter's names read from the order's keys, their cache, and finding entries again in a new order."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt

from sdgui.core.backends.base import Entry
from sdgui.gui.models.listing_filter import FoldedNames, matching, new_rows
from sdgui.gui.models.listing_order import Column, folded_names, keyed, order_key

ENTRIES = [
    Entry("d/Beta/", True),
    Entry("d/alpha.TXT", False, 30, datetime(2026, 1, 2, tzinfo=UTC)),
    Entry("d/Gamma.md", False, 10, None),
    Entry("d/ÉTÉ.txt", False, 20, datetime(2025, 5, 1, tzinfo=UTC)),
]


def kind(entry: Entry) -> str:
    return "Folder" if entry.is_dir else entry.name.rsplit(".", 1)[-1]


@pytest.mark.parametrize("column", list(Column))
@pytest.mark.parametrize("order", [Qt.SortOrder.AscendingOrder, Qt.SortOrder.DescendingOrder])
def test_the_names_read_from_the_keys_of_every_order_are_the_casefolded_names(column: Column, order: Qt.SortOrder):
    keys, rows = keyed(ENTRIES, order_key(column, order, kind))
    assert list(folded_names(column, order)(keys)) == [entry.name.casefold() for entry in rows]


def test_a_list_that_grows_keeps_its_names_and_a_filter_result_brings_its_own():
    order = Qt.SortOrder.AscendingOrder
    keys, rows = keyed(ENTRIES[:2], order_key(Column.NAME, order, kind))
    names = FoldedNames()
    read: list[int] = []

    def counting(batch):  # how many keys are read: only the entries this list has not had before
        batch = list(batch)
        read.append(len(batch))
        return folded_names(Column.NAME, order)(batch)

    assert names.of(rows, keys, counting) == ["beta", "alpha.txt"]  # the folder first
    more_keys, more = keyed(ENTRIES[2:], order_key(Column.NAME, order, kind))
    keys.extend(more_keys)
    rows.extend(more)  # a batch appended in place, as the model does with a listing in key order
    assert names.of(rows, keys, counting) == ["beta", "alpha.txt", "gamma.md", "été.txt"]
    assert read == [2, 2]

    kept_keys, kept, kept_names = matching("t", keys, rows, names.of(rows, keys, counting))
    assert [entry.name for entry in kept] == ["Beta", "alpha.TXT", "ÉTÉ.txt"]
    assert kept_names == ["beta", "alpha.txt", "été.txt"]
    assert kept_keys == [keys[0], keys[1], keys[3]]
    names.keep(kept, kept_names)
    assert names.of(kept, kept_keys, counting) == kept_names and read == [2, 2]


@pytest.mark.parametrize("many", [False, True])
def test_entries_are_found_again_in_a_new_order_or_not_at_all(many: bool):
    order = order_key(Column.SIZE, Qt.SortOrder.DescendingOrder, kind)
    everything = [Entry(f"d/f-{i:05d}", False, i % 7) for i in range(3000)]
    keys, rows = keyed(everything, order)
    gone = Entry("d/gone", False, 3)
    looked_for: list[Entry | None] = [everything[5], None, gone, everything[2999]]
    if many:  # past the binary search's limit: one pass over the rows instead
        looked_for += everything[:1500]
    found = new_rows(looked_for, rows, keys, order)
    assert found[:4] == [rows.index(everything[5]), None, None, rows.index(everything[2999])]
    assert all(rows[row] is entry for row, entry in zip(found[4:], looked_for[4:], strict=True) if row is not None)
    assert None not in found[4:]
