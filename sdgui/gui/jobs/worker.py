"""One way to run work off the GUI thread: superqt's workers, with errors handed to the GUI as exception objects.

Anything that may block (network, keyring, SQLite, a large disk operation) goes through ``run_task`` (one call, one
result) or ``run_stream`` (a generator whose items arrive one by one, e.g. a listing's pages). The callbacks run in
the GUI thread; the work never touches a widget. ``on_error`` receives the exception itself, so the window can show
an SdError's text (it names the volume and path) and pick a hint by its kind.

A task started with a ``context`` QObject never calls back once that object is gone; ``detach()`` stops the callbacks
while the work runs to its end, ``cancel()`` also asks a stream to stop at its next item (a listing the user left).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from typing import Any, Generic, TypeVar

import shiboken6
from PySide6.QtCore import QObject, QThreadPool, Slot
from superqt.utils import FunctionWorker, GeneratorWorker, WorkerBase

from sdgui.core.errors import SdError

log = logging.getLogger(__name__)

R = TypeVar("R")
Y = TypeVar("Y")

_alive: set[WorkerBase[Any]] = set()
"""Started workers, kept until their last signal has reached the GUI thread (superqt keeps its own set the same way;
ours also covers workers started on a pool of their own)."""


def _run(worker: WorkerBase[Any]) -> None:
    """WorkerBase.run without its ``warnings.catch_warnings()``: that swaps process-wide state, which two workers
    running at once restore in the wrong order (a later warning then goes to a finished worker)."""
    try:
        worker.started.emit()
        worker._running = True
        try:
            result = worker.work()
            if isinstance(result, Exception):  # GeneratorWorker returns, not raises, a RuntimeError from its generator
                raise result
        except Exception as exc:
            if not shiboken6.isValid(worker.signals):
                return  # the application is shutting down and took the signals with it: nobody is listening
            if not isinstance(exc, SdError):  # a bug or an untranslated library error: keep its traceback
                log.error("background work failed", exc_info=exc)
            worker.errored.emit(exc)
        else:
            if not worker.abort_requested:
                worker.returned.emit(result)
        worker._running = False
        worker.finished.emit()
        worker._finished.emit(worker)
    except RuntimeError:
        if shiboken6.isValid(worker.signals):
            raise
        # Shutting down (see above): the signals object went away between two emits.


class _FunctionTask(FunctionWorker[R]):
    run = _run
    delivery: _Delivery | None = None  # held until the worker's last signal has been delivered


class _StreamTask(GeneratorWorker[Y, None, R]):
    run = _run
    delivery: _Delivery | None = None


RETIRE_AFTER_S = 2.0
"""How long a finished worker is still held. Its last signal reaches the GUI thread while the pool thread may still
be returning through PySide's wrapper of ``QRunnable.run``; dropping the last reference then (in a garbage
collection of the GUI thread, say) frees the C++ object under that wrapper: a segfault, seen under load."""
_retiring: list[tuple[float, WorkerBase[Any]]] = []


def _forget(worker: WorkerBase[Any]) -> None:
    now = time.monotonic()
    _retiring.append((now, worker))
    while _retiring and now - _retiring[0][0] > RETIRE_AFTER_S:
        _alive.discard(_retiring.pop(0)[1])


class _Delivery(QObject):
    """The GUI-thread end of one task: hands its signals to the callbacks until the task is detached.

    It has no parent (a child deleted with its context while its worker still runs crashes PySide); the worker holds
    it until the worker's last signal has been delivered, and the context's ``destroyed`` detaches it."""

    def __init__(
        self,
        on_item: Callable[[Any], object] | None,
        on_result: Callable[[Any], object] | None,
        on_error: Callable[[Exception], object],
    ) -> None:
        super().__init__()
        self.live = True
        self._on_item = on_item
        self._on_result = on_result
        self._on_error = on_error
        self.quit: Callable[[], None] = _no_quit

    @Slot(object)
    def item(self, value: object) -> None:
        if self.live and self._on_item is not None:
            self._on_item(value)

    @Slot(object)
    def result(self, value: object) -> None:
        if self.live and self._on_result is not None:
            self._on_result(value)

    @Slot(object)
    def error(self, exc: Exception) -> None:
        if self.live:
            self._on_error(exc)

    @Slot()
    def context_gone(self) -> None:
        self.live = False
        self.quit()  # a stream stops at its next item

    @Slot()
    def finish(self) -> None:
        self.live = False
        self._on_item = self._on_result = None  # let go of what the callbacks hold (a model, a window)
        self._on_error = _ignore
        # ``quit`` is the worker's bound method, and the worker holds this object: a reference cycle, which the
        # cyclic collector may free in any thread (freeing a QObject off the GUI thread while it is delivered an
        # event crashes PySide). Broken here, the pair is freed by reference counting when ``_forget`` lets the
        # worker go, in the GUI thread; the GUI-thread collector (gui_thread_gc) covers the cycles left elsewhere.
        self.quit = _no_quit


def _ignore(exc: Exception) -> None:
    pass


def _no_quit() -> None:
    pass


class Task(Generic[R]):
    """A call running on a thread pool; its callbacks run in the GUI thread."""

    def __init__(self, worker: WorkerBase[Any], delivery: _Delivery) -> None:
        self._worker = worker
        self._delivery = delivery

    @property
    def is_running(self) -> bool:
        """True until the work has ended and its last signal reached the GUI thread."""
        return self._worker in _alive and all(worker is not self._worker for _, worker in _retiring)

    def detach(self) -> None:
        """No callback runs any more; the work itself carries on to its end."""
        self._delivery.live = False

    def cancel(self) -> None:
        """Detach, and ask a stream to stop before its next item (a single call cannot be interrupted)."""
        self.detach()
        self._worker.quit()


def _start(
    worker: _FunctionTask[Any] | _StreamTask[Any, Any],
    on_item: Callable[[Any], object] | None,
    on_result: Callable[[Any], object] | None,
    on_error: Callable[[Exception], object],
    context: QObject | None,
    pool: QThreadPool | None,
) -> _Delivery:
    delivery = _Delivery(on_item, on_result, on_error)
    delivery.quit = worker.quit
    worker.delivery = delivery
    if on_item is not None:
        worker.yielded.connect(delivery.item)
    worker.returned.connect(delivery.result)
    worker.errored.connect(delivery.error)
    worker.signals.finished.connect(delivery.finish)
    worker._finished.connect(_forget)
    if context is not None:
        context.destroyed.connect(delivery.context_gone)
    _alive.add(worker)
    worker.setAutoDelete(False)  # Python owns it (in _alive), not the pool: both deleting it crashes
    (pool or QThreadPool.globalInstance()).start(worker)
    return delivery


def run_task(
    fn: Callable[[], R],
    on_result: Callable[[R], object] | None,
    on_error: Callable[[Exception], object],
    *,
    context: QObject | None = None,
    pool: QThreadPool | None = None,
) -> Task[R]:
    """Call ``fn()`` on ``pool`` (the global one by default); then ``on_result(value)`` or ``on_error(exc)`` runs in
    the GUI thread, unless ``context`` has been deleted or the task detached meanwhile."""
    worker: _FunctionTask[R] = _FunctionTask(fn)
    return Task(worker, _start(worker, None, on_result, on_error, context, pool))


def run_stream(
    items: Callable[[], Generator[Y, None, None]],
    on_item: Callable[[Y], object],
    on_done: Callable[[], object] | None,
    on_error: Callable[[Exception], object],
    *,
    context: QObject | None = None,
    pool: QThreadPool | None = None,
) -> Task[None]:
    """Run the generator function ``items`` on ``pool``; ``on_item`` hears each item in the GUI thread as it comes,
    then ``on_done()`` once the generator is exhausted, or ``on_error(exc)``. ``cancel()`` stops it between items."""

    def generate() -> Generator[Y, None, None]:  # GeneratorWorker takes only a generator function, not a lambda
        yield from items()

    worker: _StreamTask[Y, None] = _StreamTask(generate)

    def done(_: object) -> None:
        if on_done is not None:
            on_done()

    return Task(worker, _start(worker, on_item, done, on_error, context, pool))
