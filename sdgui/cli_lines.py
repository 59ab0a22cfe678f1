"""The lines every sdgui command prints: exit codes, one-line errors, JSON lines and ``ls`` rows (kept apart from
cli_output's job reporters so a listing starts without importing the copy machinery, and light enough for
every command, ``--version`` too, to import)."""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any

from sdgui.core.redaction import redact
from sdgui.core.units import format_size

if TYPE_CHECKING:
    from datetime import datetime

    from sdgui.core.backends.base import Entry

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_CANCELLED = 130


def one_line(text: str) -> str:
    """``text`` on a single line with every registered secret redacted."""
    return " ".join(redact(text).split())


def one_lines(texts: list[str]) -> list[str]:
    """``one_line`` of each of ``texts``: one redaction pass over them all where it finds nothing to hide (the
    usual case; whatever would match in one text matches in the lot), else text by text."""
    block = "\n".join(texts)
    if redact(block) != block:
        return [one_line(text) for text in texts]
    return [" ".join(text.split()) for text in texts]


def error_line(message: str) -> None:
    """Print ``sdgui: <message>`` as one line on stderr."""
    print(f"sdgui: {one_line(message)}", file=sys.stderr, flush=True)


def entry_dict(entry: Entry, location: str) -> dict[str, Any]:
    """One ``ls`` row for --json; ``location`` is the listed directory or the file itself, as typed."""
    return {
        "kind": "dir" if entry.is_dir else "file",
        "name": entry.name,
        "key": entry.key,
        "location": location,
        "size": None if entry.is_dir else entry.size,
        "modified": entry.modified.isoformat() if entry.modified else None,
    }


def entry_line(entry: Entry) -> str:
    """One ``ls`` row: kind, size, modified (local time), name; a directory's name ends in ``/``."""
    size = "-" if entry.is_dir else format_size(entry.size)
    modified = _local_minute(entry.modified) if entry.modified else "-"
    name = entry.name + "/" if entry.is_dir else entry.name
    return f"{'dir' if entry.is_dir else 'file':4}  {size:>10}  {modified:16}  {name}"


@functools.lru_cache(maxsize=4096)
def _local_minute(moment: datetime) -> str:
    """``moment`` in local time to the minute, once per moment: a listing's objects often share their second (a
    bulk upload's do), and converting and formatting costs 2 us an entry, a fifth of an ``ls`` of 100,000."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def print_json(data: dict[str, Any], *, flush: bool = True) -> None:
    import json  # here: only --json prints any, and every command imports this module

    print(json.dumps(data, ensure_ascii=False, default=str), flush=flush)
