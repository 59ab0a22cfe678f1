"""The user's preferences (transfer sizes, concurrency, bandwidth, verification, conflicts), kept in QSettings."""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import Any, Literal, get_args

from PySide6.QtCore import QSettings

from sdgui.core.copy.conflicts import CONFLICT_POLICIES
from sdgui.core.copy.verify import VerifyMode
from sdgui.core.settings import MiB, TransferSettings
from sdgui.core.volumes import config_dir

log = logging.getLogger(__name__)

PREFERENCES_FILE = "preferences.ini"
GROUP = "preferences"

DefaultConflictPolicy = Literal["ask", "skip", "overwrite", "rename", "fail"]
DEFAULT_CONFLICT_POLICIES: tuple[str, ...] = ("ask", *CONFLICT_POLICIES)
VERIFY_MODES: tuple[str, ...] = get_args(VerifyMode)

_DEFAULTS = TransferSettings()

# (minimum, maximum) of every whole-number preference; values outside are clamped when loaded.
LIMITS: dict[str, tuple[int, int]] = {
    "chunk_size_mib": (5, 512),  # S3 refuses parts under 5 MiB (except the last one)
    "download_part_mib": (1, 512),
    "upload_concurrency": (1, 64),
    "download_concurrency": (1, 64),
    "file_concurrency": (1, 128),
    "concurrent_jobs": (1, 16),
}
BANDWIDTH_LIMITS_MIB_S = (0.0, 10_000.0)
"""The bandwidth preference's range in MiB/s; 0 means unlimited."""


@dataclass(frozen=True)
class Preferences:
    """What the user chose in the Preferences dialog; ``transfer_settings()`` hands the numbers to the core."""

    chunk_size_mib: int = _DEFAULTS.upload_chunk_size // MiB
    download_part_mib: int = _DEFAULTS.download_part_size // MiB
    upload_concurrency: int = _DEFAULTS.upload_concurrency
    download_concurrency: int = _DEFAULTS.download_concurrency
    file_concurrency: int = _DEFAULTS.file_concurrency
    concurrent_jobs: int = 2
    bandwidth_mib_s: float = 0.0
    """Each job's bandwidth limit in MiB/s; 0: unlimited."""
    verify: VerifyMode = "on"
    conflict_policy: DefaultConflictPolicy = "ask"

    def transfer_settings(self) -> TransferSettings:
        """The core's TransferSettings: part sizes in bytes and how many move at once."""
        return dataclasses.replace(
            _DEFAULTS,
            upload_chunk_size=self.chunk_size_mib * MiB,
            download_part_size=self.download_part_mib * MiB,
            upload_concurrency=self.upload_concurrency,
            download_concurrency=self.download_concurrency,
            file_concurrency=self.file_concurrency,
            bandwidth_limit=round(self.bandwidth_mib_s * MiB) or None,
        )


def preferences_settings() -> QSettings:
    """The QSettings file holding the preferences: ``preferences.ini`` beside volumes.toml."""
    return QSettings(str(config_dir() / PREFERENCES_FILE), QSettings.Format.IniFormat)


def load_preferences(settings: QSettings | None = None) -> Preferences:
    """The saved preferences; missing or unreadable values fall back to the defaults."""
    settings = settings if settings is not None else preferences_settings()
    defaults = Preferences()
    values: dict[str, Any] = {}
    settings.beginGroup(GROUP)
    try:
        for key, (low, high) in LIMITS.items():
            raw = settings.value(key)
            if raw is None:
                continue
            try:
                values[key] = min(max(int(str(raw)), low), high)
            except ValueError:
                log.warning("ignoring preference %s=%r: not a whole number", key, raw)
        raw = settings.value("bandwidth_mib_s")
        if raw is not None:
            try:
                rate = float(str(raw))
            except ValueError:
                rate = math.nan
            if math.isfinite(rate):
                values["bandwidth_mib_s"] = min(max(rate, BANDWIDTH_LIMITS_MIB_S[0]), BANDWIDTH_LIMITS_MIB_S[1])
            else:
                log.warning("ignoring preference bandwidth_mib_s=%r: not a number", raw)
        for key, allowed in (("verify", VERIFY_MODES), ("conflict_policy", DEFAULT_CONFLICT_POLICIES)):
            raw = settings.value(key)
            if raw is None:
                continue
            if str(raw) in allowed:
                values[key] = str(raw)
            else:
                log.warning("ignoring preference %s=%r: expected one of %s", key, raw, ", ".join(allowed))
    finally:
        settings.endGroup()
    return dataclasses.replace(defaults, **values)


def save_preferences(preferences: Preferences, settings: QSettings | None = None) -> None:
    """Write every preference and flush them to disk."""
    settings = settings if settings is not None else preferences_settings()
    settings.beginGroup(GROUP)
    try:
        for key, value in dataclasses.asdict(preferences).items():
            settings.setValue(key, value)
    finally:
        settings.endGroup()
    settings.sync()
