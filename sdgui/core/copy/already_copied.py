"""Whether an earlier run of a journaled job already copied a file: proved by size and blake3, never by mtime."""

from __future__ import annotations

import logging

from sdgui.core import errors
from sdgui.core.backends.base import Entry, VolumeBackend
from sdgui.core.copy.context import CopyItem
from sdgui.core.copy.verify import hash_file

log = logging.getLogger(__name__)


def copied_before(item: CopyItem) -> bool:
    """True when the journal says an earlier run copied ``item`` and its destination still holds those bytes.

    A file the journal calls done is checked against the blake3 it recorded: for a local destination, the blake3
    of the file on disk; for a cloud one, the object's size and ``sdgui-blake3`` metadata. A file that was being
    copied when the run died may have been completed just before (the rename or the upload's completion happened,
    its record did not): its destination is compared with the source's blake3. On True ``item.dst_key`` is the
    key the earlier run wrote.
    """
    record = item.record
    if record is None or record.state not in ("done", "active"):
        return False
    try:
        found = item.dst.stat(record.dst_key)
    except errors.SdError:
        return False
    if found.is_dir:
        return False
    if record.state == "done":
        expected, size = record.blake3, record.size
    else:
        expected, size = _source_blake3(item), item.size
    if found.size != size:
        return False
    if expected is None:
        # Nothing to compare (a copy made with verification off and no stored checksum): size alone
        # vouches only for a file the journal itself calls done.
        return record.state == "done"
    if _blake3_of(item.dst, record.dst_key, found) != expected:
        return False
    item.dst_key = record.dst_key
    if record.state != "done":
        record.done(size, expected)
    return True


def _blake3_of(backend: VolumeBackend, key: str, entry: Entry) -> str | None:
    local = backend.local_path(key)
    if local is not None:
        try:
            return hash_file(local)
        except OSError:
            return None
    return entry.blake3


def _source_blake3(item: CopyItem) -> str | None:
    try:
        # A listing's entry carries no metadata: ask the source itself.
        return _blake3_of(item.src, item.src_key, item.src.stat(item.src_key))
    except errors.SdError:
        return None
