"""What Properties (F3) says about one file or folder: size, dates, the checksums held and what a download is checked
against. Plain Python, run off the GUI thread (opening the backend may ask the keyring)."""

from __future__ import annotations

from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.checks import expected_of
from sdgui.core.paths import SdPath


def describe(backends: BackendCache, path: SdPath) -> str:
    if path.is_dir:
        return f"{path}\nDirectory"
    entry = backends.get(path.volume).stat_with_checksums(path.backend_key)
    expected = expected_of(entry)
    held = ", ".join(f"{name} {value}" for name, value in sorted(entry.checksums.items()))
    if entry.composite is not None:
        composite = entry.composite
        parts = f"{composite.algorithm}-composite {composite.value} ({len(composite.part_sizes)} parts)"
        held = f"{held}, {parts}" if held else parts
    if expected is None:
        check = "Verification: none possible (no sdgui blake3, no provider checksum)"
    else:
        check = f"Verification: every download is checked against its {expected.check}"
    lines = [
        str(path),
        f"Size: {entry.size:,} bytes",
        f"Modified: {entry.modified:%Y-%m-%d %H:%M:%S}" if entry.modified else "Modified: unknown",
        f"ETag: {entry.etag or '—'}",
        f"Stored blake3: {entry.blake3 or '— (not copied by sdgui)'}",
        f"Provider checksums: {held}" if held else "",
        check if not path.is_local else "",
    ]
    return "\n".join(line for line in lines if line)
