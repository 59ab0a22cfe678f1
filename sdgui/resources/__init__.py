"""The files the window, the wheel and the bundle share: icons, the desktop entry and the AppStream metainfo.

They are found through ``importlib.resources``, so they load the same from a source tree, a wheel and a bundle.
"""

from __future__ import annotations

import atexit
import contextlib
from importlib.resources import as_file, files
from pathlib import Path

APP_ID = "io.github.sdgui.sdgui"
"""The reverse-DNS id the desktop entry, the metainfo, the icon files and Wayland's app id share."""
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
"""The PNG sizes of the application icon under icons/hicolor (scripts/make_icons.py renders them)."""

_extracted = contextlib.ExitStack()
atexit.register(_extracted.close)


def resource_path(*parts: str) -> Path:
    """A file of this package on disk (extracted for the life of the process should it sit in a zip)."""
    return _extracted.enter_context(as_file(files(__name__).joinpath(*parts)))


def app_icon_files() -> list[Path]:
    """The application icon: the scalable SVG first, then each PNG size."""
    icons = [resource_path("icons", "hicolor", "scalable", "apps", f"{APP_ID}.svg")]
    icons += [resource_path("icons", "hicolor", f"{n}x{n}", "apps", f"{APP_ID}.png") for n in ICON_SIZES]
    return icons


def desktop_entry() -> Path:
    """The freedesktop.org desktop entry."""
    return resource_path(f"{APP_ID}.desktop")


def metainfo() -> Path:
    """The AppStream metainfo (what software centres show)."""
    return resource_path(f"{APP_ID}.metainfo.xml")
