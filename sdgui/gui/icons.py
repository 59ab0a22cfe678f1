"""Icons from sdgui's resources: the application's own, and fallbacks for what a desktop's icon theme lacks."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from sdgui.resources import app_icon_files, resource_path


@cache
def app_icon() -> QIcon:
    """The application icon at every PNG size (the window's title bar, the task switcher)."""
    icon = QIcon()
    for path in app_icon_files():
        if path.suffix == ".png":  # an SVG first would make it an SVG icon that lists no sizes
            icon.addFile(str(path))
    return icon


@cache
def themed_icon(theme_name: str, fallback: str) -> QIcon:
    """``theme_name`` from the desktop's icon theme, else resources/icons/``fallback`` (an SVG)."""
    return QIcon.fromTheme(theme_name, QIcon(str(resource_path("icons", fallback))))


def cloud_icon() -> QIcon:
    """A cloud volume in the volume selector."""
    return themed_icon("folder-cloud", "cloud.svg")


def filter_icon() -> QIcon:
    """The name filter's box under a pane's list."""
    return themed_icon("edit-find", "filter.svg")
