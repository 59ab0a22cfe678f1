"""The paths a drag or the clipboard carries: our own JSON list of SdPaths, or file:// URLs from the desktop."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from PySide6.QtCore import (
    QMimeData,
)

from sdgui.core.errors import SdError
from sdgui.core.paths import SdPath

PATHS_MIME = "application/x-sdgui-paths"
URI_LIST_MIME = "text/uri-list"

log = logging.getLogger(__name__)


def paths_from_mime(mime: QMimeData) -> list[SdPath]:
    """The SdPaths a drag or the clipboard carries: our own format first, else local ``file://`` URLs."""
    if mime.hasFormat(PATHS_MIME):
        raw = bytes(mime.data(PATHS_MIME).data()).decode("utf-8", "replace")
        try:
            items: Any = json.loads(raw)
        except ValueError:
            items = None
        if not isinstance(items, list):
            items = raw.splitlines()  # the plain one-path-a-line form also works (clipboard)
        paths: list[SdPath] = []
        for text in items:
            if not isinstance(text, str) or not text.strip():
                continue
            try:
                paths.append(SdPath.parse(text.strip()))
            except SdError as exc:
                log.warning("dropped path refused: %s", exc)
        return paths
    paths = []
    for url in mime.urls() if mime.hasUrls() else []:
        local = url.toLocalFile() if url.isLocalFile() else ""
        if local:
            paths.append(SdPath(None, os.path.abspath(local), os.path.isdir(local)))
    return paths


def _is_inside(path: SdPath, ancestor: SdPath) -> bool:
    """Whether ``path`` is ``ancestor`` or lies under it (same volume)."""
    if path.volume != ancestor.volume:
        return False
    if path.path == ancestor.path or (ancestor.volume is not None and ancestor.path == ""):
        return True
    sep = "/" if ancestor.volume is not None else os.sep
    return path.path.startswith(ancestor.path.rstrip(sep) + sep)
