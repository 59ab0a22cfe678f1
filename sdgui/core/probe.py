"""A connection test for one volume: list, write a probe object, read it back, delete it; step by step."""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Literal

from sdgui.core import errors
from sdgui.core.backends.base import VolumeBackend

logger = logging.getLogger(__name__)

ProbeStepName = Literal["list", "write", "read back", "delete"]
PROBE_STEPS: tuple[ProbeStepName, ...] = ("list", "write", "read back", "delete")
PROBE_PREFIX = ".sdgui-probe-"
PROBE_SIZE = 64
LIST_PAGE_SIZE = 100


@dataclass(frozen=True)
class ProbeStep:
    """The outcome of one probe step.

    ``error_kind`` is the SdError's kind ("credentials", "network"...) or None when the step passed; ``message``
    says what the step saw, or the error's detail; ``transport`` is how the connection failed ("timeout": no
    answer within the read timeout), when it did.
    """

    name: ProbeStepName
    ok: bool
    seconds: float
    error_kind: str | None
    message: str
    transport: errors.Transport | None = None


def probe_volume(
    backend: VolumeBackend,
    *,
    on_step: Callable[[ProbeStep], None] | None = None,
    read_only: bool = False,
) -> list[ProbeStep]:
    """Check that ``backend`` answers: list its root (first page), write, read back and delete a probe object.

    Stops at the first failed step, except that a probe object once written is always deleted again.
    ``read_only`` stops after the listing. ``on_step`` hears each step as soon as it is done (from the
    calling thread). Blocking: run it off a GUI thread.
    """
    steps: list[ProbeStep] = []
    for step in probe_steps(backend, read_only=read_only):
        steps.append(step)
        if on_step is not None:
            on_step(step)
    return steps


def probe_steps(backend: VolumeBackend, *, read_only: bool = False) -> Iterator[ProbeStep]:
    """``probe_volume``'s steps, each yielded as soon as it is done; a written probe object is deleted even when
    the consumer stops early."""
    listed = _timed("list", lambda: _list_root(backend))
    yield listed
    if not listed.ok or read_only:
        return
    key = f"{PROBE_PREFIX}{secrets.token_hex(8)}"
    data = os.urandom(PROBE_SIZE)
    written = _timed("write", lambda: _write(backend, key, data))
    yield written
    if not written.ok:
        return
    try:
        yield _timed("read back", lambda: _read_back(backend, key, data))
    finally:
        deleted = _timed("delete", lambda: _delete(backend, key))  # also after a failed read: leave nothing behind
    yield deleted


def _timed(name: ProbeStepName, action: Callable[[], str]) -> ProbeStep:
    started = time.monotonic()
    try:
        message = action()
    except errors.SdError as exc:
        # The kind travels apart; the detail is what went wrong, without the "kind error at volume:" preamble.
        return ProbeStep(name, False, time.monotonic() - started, exc.kind, exc.detail, exc.transport)
    except Exception as exc:
        # A backend should translate everything; a probe is a diagnosis, so report the slip instead of crashing.
        logger.exception("probe step %s failed with an untranslated error", name)
        return ProbeStep(name, False, time.monotonic() - started, errors.SdError.kind, f"{type(exc).__name__}: {exc}")
    return ProbeStep(name, True, time.monotonic() - started, None, message)


def _list_root(backend: VolumeBackend) -> str:
    pages = backend.list("", page_size=LIST_PAGE_SIZE)
    try:
        page = next(pages, [])
    finally:
        if isinstance(pages, Generator):  # stop it: only the first page was wanted
            pages.close()
    more = "+" if len(page) >= LIST_PAGE_SIZE else ""
    return f"{len(page)}{more} {'entry' if len(page) == 1 else 'entries'} at the top"


def _write(backend: VolumeBackend, key: str, data: bytes) -> str:
    backend.write(key, [data], size=len(data))
    return f"{len(data)} bytes to {key}"


def _read_back(backend: VolumeBackend, key: str, data: bytes) -> str:
    got = b"".join(backend.read(key))
    if got != data:
        raise errors.ChecksumMismatchError(
            f"read back {len(got)} bytes that differ from the {len(data)} written", volume=backend.volume, path=key
        )
    return f"{len(got)} bytes match"


def _delete(backend: VolumeBackend, key: str) -> str:
    backend.delete(key)
    return f"removed {key}"
