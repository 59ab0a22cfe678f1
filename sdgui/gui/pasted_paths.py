"""Pasted text as sources to copy: one local path or ``VOLUME:key`` a line, as Copy (Ctrl+C) puts them."""

from __future__ import annotations

import os
from collections.abc import Set

from sdgui.core.paths import SdPath


def paths_from_text(text: str, volumes: Set[str]) -> list[SdPath]:
    """Lines that each name an existing local path or a key on one of ``volumes``; else nothing (any other text
    pasted is no list of files)."""
    paths = []
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        try:
            path = SdPath.parse(line)
        except Exception:
            return []
        if (path.volume is None and not os.path.exists(path.path)) or (
            path.volume is not None and path.volume not in volumes
        ):
            return []
        paths.append(path)
    return paths
