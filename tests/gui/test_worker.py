"""The one way the window runs work off the GUI thread: results, errors as exception objects, streams, cancel."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Generator

import pytest
from PySide6.QtCore import QObject
from pytestqt.qtbot import QtBot

from sdgui.core.errors import NotFoundError
from sdgui.gui.jobs.worker import run_stream, run_task

pytestmark = pytest.mark.timeout(30)

WAIT_MS = 10_000


def test_a_task_runs_off_the_gui_thread_and_its_result_arrives_on_it(qtbot: QtBot) -> None:
    ran_on: list[threading.Thread] = []
    got: list[tuple[int, threading.Thread]] = []

    def work() -> int:
        ran_on.append(threading.current_thread())
        return 42

    task = run_task(work, lambda value: got.append((value, threading.current_thread())), pytest.fail)
    qtbot.waitUntil(lambda: not task.is_running, timeout=WAIT_MS)
    assert got == [(42, threading.main_thread())]
    assert ran_on and ran_on[0] is not threading.main_thread()


def test_on_error_receives_the_exception_itself(qtbot: QtBot) -> None:
    raised = NotFoundError("no such key", volume="cloud", path="a/b.txt")
    errors: list[Exception] = []

    def work() -> None:
        raise raised

    task = run_task(work, pytest.fail, errors.append)
    qtbot.waitUntil(lambda: not task.is_running, timeout=WAIT_MS)
    assert errors == [raised] and errors[0] is raised
    assert str(errors[0]) == "not-found error at cloud:a/b.txt: no such key"


def test_a_stream_delivers_items_in_order_then_done(qtbot: QtBot) -> None:
    items: list[int] = []
    done: list[bool] = []

    def numbers() -> Generator[int, None, None]:
        yield from range(5)

    task = run_stream(numbers, items.append, lambda: done.append(True), pytest.fail)
    qtbot.waitUntil(lambda: not task.is_running, timeout=WAIT_MS)
    assert items == [0, 1, 2, 3, 4] and done == [True]


def test_a_cancelled_stream_stops_between_items_and_calls_nothing_back(qtbot: QtBot) -> None:
    step = threading.Event()
    advanced: list[int] = []
    items: list[int] = []

    def pages() -> Generator[int, None, None]:
        for i in range(100):
            step.wait(WAIT_MS / 1000)
            step.clear()
            advanced.append(i)
            yield i

    task = run_stream(pages, items.append, lambda: items.append(-1), lambda exc: items.append(-2))
    step.set()
    qtbot.waitUntil(lambda: items == [0], timeout=WAIT_MS)
    task.cancel()
    step.set()  # the page being read when the user left still arrives at the worker, and is dropped
    qtbot.waitUntil(lambda: not task.is_running, timeout=WAIT_MS)
    assert items == [0]
    assert advanced == [0, 1]  # it stopped before asking the generator for a third page


def test_no_callback_once_the_context_is_gone(qtbot: QtBot) -> None:
    release = threading.Event()
    got: list[object] = []
    context = QObject()
    task = run_task(lambda: release.wait(WAIT_MS / 1000), got.append, got.append, context=context)
    with qtbot.waitSignal(context.destroyed, timeout=WAIT_MS):
        context.deleteLater()
    release.set()
    qtbot.waitUntil(lambda: not task.is_running, timeout=WAIT_MS)
    assert got == []


def test_a_running_worker_leaves_the_process_warning_state_alone(qtbot: QtBot) -> None:
    # superqt's own WorkerBase.run swaps warnings.showwarning and the filters for the whole process while it runs.
    release = threading.Event()
    started = threading.Event()
    before = (warnings.showwarning, list(warnings.filters))

    def work() -> None:
        started.set()
        release.wait(WAIT_MS / 1000)

    task = run_task(work, None, pytest.fail)
    assert started.wait(WAIT_MS / 1000)
    try:
        assert (warnings.showwarning, list(warnings.filters)) == before
    finally:
        release.set()
    qtbot.waitUntil(lambda: not task.is_running, timeout=WAIT_MS)
