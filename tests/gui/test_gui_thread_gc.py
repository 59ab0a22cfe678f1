"""A reference cycle dropped in a worker thread is freed in the GUI thread, however much the worker allocates."""

from __future__ import annotations

import gc
import threading

from pytestqt.qtbot import QtBot

freed_in: list[str] = []
kept: list[list[int]] = []  # what the worker allocated, alive: allocations count only while they live


class Node:
    def __init__(self) -> None:
        self.other: Node | None = None

    def __del__(self) -> None:
        freed_in.append(threading.current_thread().name)


def drop_a_cycle_and_allocate() -> None:
    a, b = Node(), Node()
    a.other, b.other = b, a
    del a, b
    # Far past the youngest generation's threshold: automatic collection would run here, in this thread.
    kept.extend([i] for i in range(50 * gc.get_threshold()[0]))


def test_cycles_dropped_in_a_worker_are_freed_in_the_gui_thread(qtbot: QtBot) -> None:
    assert not gc.isenabled()  # the session runs as the app does (tests/gui/conftest.py)
    freed_in.clear()
    worker = threading.Thread(target=drop_a_cycle_and_allocate, name="copy-worker")
    worker.start()
    worker.join(10)
    assert freed_in == []  # nothing collected in the worker
    qtbot.waitUntil(lambda: len(freed_in) == 2, timeout=5_000)  # the collector's timer, in the GUI thread
    assert freed_in == [threading.main_thread().name] * 2
    kept.clear()
