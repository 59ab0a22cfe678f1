"""A file-like reader fed from an iterable of chunks by a thread, for obstore's ``put``."""

from __future__ import annotations

import io
import queue
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sdgui.core.backends.base import BeforeCommit

if TYPE_CHECKING:
    from _typeshed import WriteableBuffer

_PUMP_DEPTH = 4


class PumpedReader(io.RawIOBase):
    """A file-like object obstore's ``put`` reads parts from, fed by a thread that drains ``chunks``.

    Draining in another thread matters: ``chunks`` may come from another obstore stream, and calling
    obstore from inside obstore's reader callback panics. An exception raised by ``chunks`` (a cancel, a
    failed verification) is re-raised inside the next ``read``, ahead of the chunks still queued, which makes
    obstore abort the multipart upload. Ahead matters: obstore reads a part only when a part in flight is done,
    so every queued chunk drained first would cost a cancel the time of another part.
    """

    def __init__(self, chunks: Iterable[bytes], before_commit: BeforeCommit | None) -> None:
        super().__init__()
        self._queue: queue.Queue[bytes | BaseException | None] = queue.Queue(maxsize=_PUMP_DEPTH)
        self._stopped = threading.Event()
        self._before_commit = before_commit
        self._buffer = memoryview(b"")
        self._done = False
        self._failure: BaseException | None = None
        self.error: BaseException | None = None
        self.bytes_read = 0
        self._thread = threading.Thread(target=self._pump, args=(chunks,), name="sdgui-upload-pump", daemon=True)
        self._thread.start()

    def _offer(self, item: bytes | BaseException | None) -> bool:
        while not self._stopped.is_set():
            try:
                self._queue.put(item, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def _pump(self, chunks: Iterable[bytes]) -> None:
        iterator = iter(chunks)
        try:
            for chunk in iterator:
                if not self._offer(chunk):
                    return
            self._offer(None)
        except BaseException as exc:  # handed to the reader, which raises it inside obstore
            self._failure = exc
            self._offer(exc)  # wakes a reader waiting for the next chunk
        finally:
            close = getattr(iterator, "close", None)
            if close is not None:
                close()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: WriteableBuffer) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._read(len(view))
        except BaseException as exc:
            self.error = exc
            raise
        view[: len(data)] = data
        return len(data)

    def _read(self, size: int) -> bytes:
        if self._failure is not None:
            raise self._failure
        while not self._buffer and not self._done:
            item = self._queue.get()
            if item is None:
                self._done = True
                if self._before_commit is not None:
                    self._before_commit()
            elif isinstance(item, BaseException):
                raise item
            else:
                self._buffer = memoryview(item)
        if size is None or size < 0:
            size = len(self._buffer)
        out = bytes(self._buffer[:size])
        self._buffer = self._buffer[size:]
        self.bytes_read += len(out)
        return out

    def seekable(self) -> bool:
        return False

    def tell(self) -> int:
        return self.bytes_read

    def reraise(self) -> None:
        if self.error is not None:
            raise self.error

    def stop(self) -> None:
        self._stopped.set()
        self._thread.join(timeout=5)

    def buffered(self, size: int) -> io.BufferedReader:
        """This reader as the binary file obstore's ``put`` takes, handing out ``size`` bytes per read."""
        return io.BufferedReader(self, buffer_size=size)
