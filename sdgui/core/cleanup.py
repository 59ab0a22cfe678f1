"""Find and abort incomplete multipart uploads: parts of uploads that were never completed still cost storage.

An upload younger than the chosen age may belong to a copy that is still running, or to one that will resume;
only older ones are aborted.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sdgui.core import errors
from sdgui.core.backends.base import OpenUpload, ResumableUploads, VolumeBackend

log = logging.getLogger(__name__)

DEFAULT_MIN_AGE = timedelta(hours=24)
_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")
_UNIT_SECONDS = {"s": 1, "": 1, "m": 60, "h": 3600, "d": 86400}


def parse_age(text: str) -> timedelta:
    """``"90s"``, ``"30m"``, ``"24h"``, ``"7d"`` (a bare number is seconds) as a timedelta; ValueError otherwise."""
    match = _AGE.fullmatch(text.strip().lower())
    if match is None:
        raise ValueError(f"invalid age {text!r}; use a number with s, m, h or d, like 24h")
    return timedelta(seconds=float(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def uploads_of(backend: VolumeBackend) -> ResumableUploads:
    """The volume's multipart uploads; ConfigError where it has none (local disks, GCS, Azure)."""
    uploads = backend.resumable_uploads()
    if uploads is None:
        raise errors.ConfigError("multipart uploads are managed only on s3 and r2 volumes", volume=backend.volume)
    return uploads


@dataclass(frozen=True)
class StaleUpload:
    """An open upload and how old it is (None when the server gave no start time)."""

    upload: OpenUpload
    age: timedelta | None

    @property
    def key(self) -> str:
        return self.upload.key

    @property
    def upload_id(self) -> str:
        return self.upload.upload_id


@dataclass
class CleanupReport:
    """What a cleanup found and did."""

    stale: list[StaleUpload] = field(default_factory=list)
    kept: int = 0
    """Open uploads younger than the age: left alone."""
    aborted: list[StaleUpload] = field(default_factory=list)
    failed: list[tuple[StaleUpload, errors.SdError]] = field(default_factory=list)


def find_stale_uploads(
    client: ResumableUploads, older_than: timedelta = DEFAULT_MIN_AGE, *, now: datetime | None = None
) -> CleanupReport:
    """List the volume's open uploads; those started at least ``older_than`` ago are ``stale``.

    An upload whose start time is unknown counts as stale only when ``older_than`` is zero.
    """
    now = now or datetime.now(UTC)
    report = CleanupReport()
    for upload in client.list_uploads():
        age = upload.age(now)
        if (age is None and older_than <= timedelta(0)) or (age is not None and age >= older_than):
            report.stale.append(StaleUpload(upload, age))
        else:
            report.kept += 1
    report.stale.sort(key=lambda s: (s.key, s.upload_id))
    return report


def abort_uploads(
    client: ResumableUploads,
    uploads: Iterable[StaleUpload],
    report: CleanupReport | None = None,
    *,
    on_done: Callable[[StaleUpload, errors.SdError | None], None] | None = None,
) -> CleanupReport:
    """Abort each upload, carrying on past failures; ``on_done`` hears about each one as it happens."""
    report = report or CleanupReport()
    for stale in uploads:
        try:
            client.abort(stale.key, stale.upload_id)
        except errors.SdError as exc:
            if isinstance(exc, errors.CredentialsError):
                raise  # every other abort would fail the same way
            log.warning("could not abort upload %s of %s: %s", stale.upload_id, stale.key, exc)
            report.failed.append((stale, exc))
            if on_done is not None:
                on_done(stale, exc)
            continue
        report.aborted.append(stale)
        if on_done is not None:
            on_done(stale, None)
    return report
