"""How sizes and durations read everywhere (CLI, panes, transfers, dialogs): one format, decimal units."""

from __future__ import annotations


def format_size(size: int) -> str:
    """Bytes in decimal units, as file managers show them: ``1 byte``, ``512 bytes``, ``12.3 MB``, ``1.0 GB``."""
    if abs(size) < 1000:
        return f"{size} byte" if size == 1 else f"{size} bytes"
    value = float(size)
    for unit in ("kB", "MB", "GB", "TB", "PB"):
        value /= 1000
        if abs(value) < 1000 or unit == "PB":
            break
    return f"{value:.1f} {unit}"


def format_duration(seconds: float) -> str:
    """``42 s``, ``3 min 05 s``, ``2 h 07 min``."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    minutes, whole = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} min {whole:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"
