"""ChecksBeside hashes a stream on a thread of its own: the same digests as in line, and no thread left behind when
the stream stops early."""

from __future__ import annotations

import os
import threading

from sdgui.core.copy.checks import BLAKE3, RunningChecks, hash_all
from sdgui.core.copy.checks_beside import ChecksBeside

NAMES = [BLAKE3, "md5", "md5-composite"]
PARTS = (300_000, 300_000, 123_456)


def _chunks() -> list[bytes]:
    data = os.urandom(sum(PARTS))
    return [data[i : i + 65_536] for i in range(0, len(data), 65_536)]


def test_the_digests_are_those_of_the_bytes_in_order() -> None:
    chunks = _chunks()
    beside = ChecksBeside(RunningChecks(NAMES, None, PARTS), window=100_000)
    passed = list(beside.through(chunks))
    assert passed == chunks and beside.size == sum(PARTS)
    assert beside.results() == hash_all(chunks, NAMES, None, PARTS)


def test_a_stream_stopped_early_leaves_no_thread() -> None:
    chunks = _chunks()
    beside = ChecksBeside(RunningChecks(NAMES, None, PARTS), window=1)
    stream = beside.through(chunks)
    next(stream), next(stream)
    stream.close()
    beside.results()  # returns once the thread has hashed what it was handed
    assert not [t for t in threading.enumerate() if t.name == "sdgui-checks"]
