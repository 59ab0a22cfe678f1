"""Keep the C heap from growing with the number of files a job touches.

Measured on a job over 40,000 small files: Python's own objects stayed flat, yet the RSS grew by ~150 bytes per
file. Two glibc habits cause it: each of a job's threads gets a malloc arena of its own (up to 8 per core), where
freed blocks fragment; and freed heap above the trim threshold (which glibc raises by itself after big blocks)
is kept. With two arenas and a trim between batches the RSS stays flat. Elsewhere than glibc this does nothing."""

from __future__ import annotations

import ctypes
import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)


_M_ARENA_MAX = -8
"""mallopt's parameter for the number of malloc arenas (glibc's malloc.h)."""
HEAP_ARENAS = 2


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        # The process's own symbols, libc's among them: instant, where ctypes.util.find_library runs ldconfig
        # (~35 ms at every start).
        return ctypes.CDLL(None)
    except OSError:
        return None


def _function(name: str) -> Callable[..., int] | None:
    libc = _libc()
    found: Callable[..., int] | None = getattr(libc, name, None) if libc is not None else None  # musl has neither
    return found


_TRIM = _function("malloc_trim")
_MALLOPT = _function("mallopt")


def limit_heap_arenas(count: int = HEAP_ARENAS) -> None:
    """Let all threads share ``count`` malloc arenas; call once at start, before the first worker thread."""
    if _MALLOPT is not None and not _MALLOPT(_M_ARENA_MAX, count):
        log.debug("mallopt(M_ARENA_MAX, %d) was refused", count)


def release_free_memory() -> None:
    """Return the C heap's free pages to the OS (a few ms at most; call it between batches, not per chunk)."""
    if _TRIM is not None:
        _TRIM(0)
