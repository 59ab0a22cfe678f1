"""Opening a volume's backend from a worker thread (it may read volumes.toml and ask the keyring)."""

from __future__ import annotations

import threading

from sdgui.core.backends.base import VolumeBackend
from sdgui.core.backends.factory import BackendCache

# BackendCache keeps a plain dict; two workers opening volumes at once must not race on it. This lock can go once
# BackendCache guards itself (the backend boundary's work in core/backends/factory.py).
_OPEN_LOCK = threading.Lock()


def open_backend(cache: BackendCache, volume: str | None) -> VolumeBackend:
    """``cache.get(volume)``, one thread at a time. Blocking: call it off the GUI thread."""
    with _OPEN_LOCK:
        return cache.get(volume)
