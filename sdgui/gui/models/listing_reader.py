"""What a listing runs off the GUI thread: open the backend, then stream its pages; it never touches the model."""

from __future__ import annotations

from collections.abc import Callable, Generator

from sdgui.core.backends.base import Entry, VolumeBackend
from sdgui.core.paths import SdPath

BackendSource = VolumeBackend | Callable[[], VolumeBackend]
"""A backend, or a callable that opens one (called on the worker's thread: it may ask the keyring)."""


ListingItem = VolumeBackend | list[Entry]
"""What a listing yields: the opened backend first, then its pages."""


def read_listing(source: BackendSource, location: SdPath, page_size: int) -> Generator[ListingItem, None, None]:
    """Yield the opened backend, then ``backend.list(location)`` page by page (a worker stops between pages)."""
    backend = source if isinstance(source, VolumeBackend) else source()
    yield backend
    yield from backend.list(location.backend_key, page_size=page_size)
