"""Render the application icon's SVG into the PNG sizes desktops and bundles look for.

    .venv/bin/python scripts/make_icons.py

Reads sdgui/resources/icons/hicolor/scalable/apps/<APP_ID>.svg and writes hicolor/<N>x<N>/apps/<APP_ID>.png for
every size in ICON_SIZES. Run it after changing the SVG and commit what it writes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

from sdgui.resources import APP_ID, ICON_SIZES  # noqa: E402

ICONS = ROOT / "sdgui" / "resources" / "icons"
SOURCE = ICONS / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg"


def render(renderer: QSvgRenderer, size: int, target: Path) -> None:
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
    renderer.render(painter)
    painter.end()
    target.parent.mkdir(parents=True, exist_ok=True)
    if not image.save(str(target), "PNG"):
        raise OSError(f"could not write {target}")
    print(f"wrote {target.relative_to(ROOT)}")


def main() -> int:
    app = QGuiApplication(sys.argv)  # noqa: F841  QImage and fonts want an application object
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"{SOURCE} is not a valid SVG", file=sys.stderr)
        return 1
    for size in ICON_SIZES:
        render(renderer, size, ICONS / "hicolor" / f"{size}x{size}" / "apps" / f"{APP_ID}.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
