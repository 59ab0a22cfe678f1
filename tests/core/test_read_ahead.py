"""read_ahead: items in order from a thread that asks for the next one while the caller holds the last."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from sdgui.core.read_ahead import read_ahead

WAIT_S = 5.0


def test_items_come_in_order_and_the_next_is_asked_for_before_the_caller_asks() -> None:
    asked = [threading.Event() for _ in range(4)]

    def pages() -> Iterator[int]:
        for number in range(4):
            asked[number].set()
            yield number

    got = []
    for page in read_ahead(pages()):
        got.append(page)
        if page < 3:  # while this page is held, the producer already asks for the next
            assert asked[page + 1].wait(WAIT_S)
    assert got == [0, 1, 2, 3]


def test_a_failure_comes_after_the_items_before_it() -> None:
    def pages() -> Iterator[int]:
        yield 1
        yield 2
        raise OSError("the third page failed")

    got = []
    with pytest.raises(OSError, match="third page"):
        for page in read_ahead(pages()):
            got.append(page)
    assert got == [1, 2]


def test_closing_early_stops_the_producer_and_closes_the_source_in_its_thread() -> None:
    closed = threading.Event()
    produced = []
    closed_in: list[str] = []

    def pages() -> Iterator[int]:
        try:
            for number in range(1000):
                produced.append(number)
                yield number
        finally:
            closed_in.append(threading.current_thread().name)
            closed.set()

    reader = read_ahead(pages(), name="test-ahead")
    assert next(reader) == 0
    reader.close()
    assert closed.wait(WAIT_S)
    assert closed_in == ["test-ahead"]
    assert len(produced) <= 3  # the one taken, the one queued, the one in hand when it stopped
