"""The paths a drag or the clipboard carries: our own JSON list of SdPaths, or file:// URLs from the desktop."""

from __future__ import annotations

import json
import logging
import os
from typing import Any

from PySide6.QtCore import QByteArray, QMimeData, Qt, QUrl

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


def mime_for_paths(paths: list[SdPath]) -> QMimeData:
    """What a drag of ``paths`` carries: our JSON list, file:// URLs for the local ones, and one path a line."""
    texts = [str(path) for path in paths]
    mime = QMimeData()
    mime.setData(PATHS_MIME, QByteArray(json.dumps(texts).encode("utf-8")))
    urls = [QUrl.fromLocalFile(path.path) for path in paths if path.volume is None]
    if urls:
        mime.setUrls(urls)
    mime.setText("\n".join(texts))
    return mime


def drop_plan(data: QMimeData, action: Qt.DropAction, destination: SdPath | None) -> list[SdPath] | None:
    """The sources a drop of ``data`` onto ``destination`` copies or moves; None when it means nothing (not a copy
    or move, no paths, into itself, or onto the folder they are already in)."""
    if action not in (Qt.DropAction.CopyAction, Qt.DropAction.MoveAction):
        return None
    if not (data.hasFormat(PATHS_MIME) or data.hasUrls()):
        return None
    sources = paths_from_mime(data)
    if destination is None or not sources:
        return None
    if any(_is_inside(destination, source) for source in sources):
        return None  # into itself
    if all(source.parent() == destination for source in sources):
        return None  # onto the folder they are already in
    return sources
