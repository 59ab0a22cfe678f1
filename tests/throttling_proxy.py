"""A TCP proxy that makes a loopback server behave like a slow link: a transfer is still running when a test acts."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from tests.servers import LOOPBACK


class ThrottlingProxy:
    """A TCP proxy on loopback passing at most ``rate`` bytes/s (both directions, all connections together).

    It makes a loopback server behave like a slow link, so a transfer is still running when the signal comes.
    (rclone's --bwlimit does not help for uploads: it accepts parts at full speed and throttles completion.)
    """

    def __init__(self, upstream: str, rate: int) -> None:
        self.upstream = (LOOPBACK, int(upstream.rsplit(":", 1)[1]))
        self.rate = rate
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(0.2)
        self.endpoint = f"http://{LOOPBACK}:{self.listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._next_slot = time.monotonic()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                if self._closed.is_set():  # close() ran meanwhile and would not see these two
                    client.close()
                    server.close()
                    return
                self._sockets += [client, server]
                for source, target in ((client, server), (server, client)):
                    thread = threading.Thread(target=self._pipe, args=(source, target), daemon=True)
                    self._threads.append(thread)
                    thread.start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(64 * 1024):
                with self._lock:
                    self._next_slot = max(self._next_slot, time.monotonic()) + len(chunk) / self.rate
                    release_at = self._next_slot
                time.sleep(max(0.0, release_at - time.monotonic()))  # rate limiting, not synchronisation
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self.listener.close()
        with self._lock:
            self._closed.set()
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv, which close() would not
                sock.close()
            threads = list(self._threads)
        for thread in threads:
            thread.join(timeout=5)
