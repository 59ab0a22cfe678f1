"""PumpedReader: a failure of its chunks is raised at the next read, ahead of the chunks still queued."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from sdgui.core.backends.pumped_reader import PumpedReader
from sdgui.core.errors import CancelledError


def test_a_failure_overtakes_the_chunks_queued_before_it() -> None:
    raised = threading.Event()

    def chunks() -> Iterator[bytes]:
        yield b"a" * 10
        yield b"b" * 10
        yield b"c" * 10
        raised.set()
        raise CancelledError("cancelled by the user")

    reader = PumpedReader(chunks(), None)
    try:
        assert raised.wait(10), "the pump never reached the failure"
        # obstore reads a part only when one in flight is done: each queued chunk drained first would cost a
        # cancel another part's time. The failure comes first.
        with pytest.raises(CancelledError):
            reader.read(10)
        assert reader.bytes_read == 0
        with pytest.raises(CancelledError):
            reader.reraise()
    finally:
        reader.stop()


def test_chunks_arrive_whole_and_in_order_then_commit() -> None:
    committed: list[int] = []
    reader = PumpedReader(iter([b"one", b"two", b"three"]), lambda: committed.append(1))
    try:
        assert reader.buffered(4).read() == b"onetwothree"
        assert committed == [1]
        assert reader.bytes_read == len(b"onetwothree")
    finally:
        reader.stop()
