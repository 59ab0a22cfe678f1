"""Reading an iterator one step ahead in a thread of its own: a listing asks for its next page while the caller
works through the one it has, so the server's time for a page and the caller's time for the last one overlap."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")

_END = object()


def read_ahead(items: Iterable[T], *, depth: int = 1, name: str = "sdgui-read-ahead") -> Iterator[T]:
    """``items`` in order: the first from the caller's own thread, the rest from a thread that keeps up to ``depth``
    of them ready. An exception the producer meets is raised here, after the items before it. Closing the
    generator early does not wait: the producer stops when the step it is in ends (a page in flight is let finish,
    not awaited)."""
    ready: queue.Queue[object] = queue.Queue(maxsize=max(1, depth))
    stop = threading.Event()

    def offer(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    source = iter(items)
    first = next(source, _END)  # in the caller's thread: the first item comes without a hand-over
    if first is _END:
        return

    def produce() -> None:
        try:
            for item in source:
                if not offer(item):
                    break
            else:
                offer(_END)
        except BaseException as exc:  # handed to the consumer, which raises it in its own thread
            offer(_Failure(exc))
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()  # here, in the thread that ran it: a listing's own cleanup runs now, not at collection

    producer = threading.Thread(target=produce, name=name, daemon=True)
    producer.start()  # the second item is on its way while the caller takes the first
    try:
        yield first  # type: ignore[misc]
        while True:
            got = ready.get()
            if got is _END:
                return
            if isinstance(got, _Failure):
                raise got.error
            yield got  # type: ignore[misc]
    finally:
        stop.set()


class _Failure:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error
