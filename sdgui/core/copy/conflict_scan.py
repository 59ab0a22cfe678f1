"""Which sources of a copy into a folder would land on a name that exists there now, with both sides' stats.

A fresh look, not a pane's listing: one stat per source (one listing of the destination folder when there are many
sources), then one stat per conflicting source (one listing of their folder when there are many). What answers
here is what a conflict prompt shows; the job looks again when it runs (the answer may change in between).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sdgui.core import errors
from sdgui.core.backends.base import Entry, VolumeBackend
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import target_name
from sdgui.core.paths import SdPath

LIST_ABOVE = 8
"""More names than this to look up in one folder: list the folder once instead of one request per name."""


@dataclass(frozen=True)
class Conflict:
    """``source`` would land on ``existing``; ``source_entry`` is the source's stat (None if it is gone)."""

    source: SdPath
    existing: Entry
    source_entry: Entry | None

    @property
    def is_folder(self) -> bool:
        """A folder onto a folder: copying merges them (files inside may conflict in turn)."""
        return self.source.is_dir and self.existing.is_dir


def _join(folder: str, name: str) -> str:
    return f"{folder.rstrip('/')}/{name}" if folder.strip("/") else name


def _entries(backend: VolumeBackend, folder: str, names: set[str], dirs: set[str]) -> dict[str, Entry]:
    """What exists in ``folder`` under ``names`` (``dirs``: the names looked up as folders), by name."""
    found: dict[str, Entry] = {}
    if len(names) > LIST_ABOVE:
        try:
            for page in backend.list(folder.rstrip("/"), recursive=False):
                found.update((entry.name, entry) for entry in page if entry.name in names)
        except errors.NotFoundError:
            pass
        return found
    for name in names:
        entry = entry_at(backend, _join(folder, name), as_folder=name in dirs)
        if entry is not None:
            found[name] = entry
    return found


def entry_at(backend: VolumeBackend, key: str, *, as_folder: bool) -> Entry | None:
    """What is at ``key`` now: its stat, else (``as_folder``) the folder an object store's prefix makes, which has
    no stat of its own; None when nothing is there."""
    try:
        return backend.stat(key)
    except errors.NotFoundError:
        return Entry(key + "/", True) if as_folder and backend.is_dir(key) else None


def _source_entries(backends: BackendCache, sources: Iterable[SdPath]) -> dict[SdPath, Entry]:
    """The stats of ``sources``, by source; grouped by volume and folder so a big group costs one listing."""
    groups: dict[tuple[str | None, str], list[SdPath]] = {}
    for source in sources:
        groups.setdefault((source.volume, source.parent().backend_key), []).append(source)
    stats: dict[SdPath, Entry] = {}
    for (volume, folder), members in groups.items():
        by_name = {target_name(source): source for source in members}
        dirs = {name for name, source in by_name.items() if source.is_dir}
        try:
            found = _entries(backends.get(volume), folder, set(by_name), dirs)
        except errors.NotFoundError:
            continue
        stats.update((by_name[name], entry) for name, entry in found.items())
    return stats


def find_conflicts(backends: BackendCache, sources: list[SdPath], destination: SdPath) -> list[Conflict]:
    """The sources that would land on an existing name in folder ``destination``, in the order given.

    Blocks on the network: call it off the GUI thread. A destination folder that does not exist yet has no
    conflicts; any other failure to look (network, credentials) raises its SdError.
    """
    backend = backends.get(destination.volume)
    folder = destination.backend_key
    by_name: dict[str, SdPath] = {}
    for source in sources:
        by_name.setdefault(target_name(source), source)
    dirs = {name for name, source in by_name.items() if source.is_dir}
    try:
        existing = _entries(backend, folder, set(by_name), dirs)
    except errors.NotFoundError:
        return []
    clashing = [source for source in sources if target_name(source) in existing]
    stats = _source_entries(backends, (source for source in clashing if not source.is_dir))
    return [
        Conflict(source, existing[target_name(source)], stats.get(source) if not source.is_dir else None)
        for source in clashing
    ]
