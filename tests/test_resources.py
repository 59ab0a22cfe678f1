"""The files the window, the wheel and the bundle share: found through importlib.resources, and valid."""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from sdgui.resources import APP_ID, ICON_SIZES, app_icon_files, desktop_entry, metainfo, resource_path

ROOT = Path(__file__).resolve().parent.parent


def test_every_icon_size_is_there_at_its_size() -> None:
    from PySide6.QtGui import QImage

    svg, *pngs = app_icon_files()
    assert svg.name == f"{APP_ID}.svg" and svg.read_text().lstrip().startswith("<?xml")
    assert len(pngs) == len(ICON_SIZES)
    for size, png in zip(ICON_SIZES, pngs, strict=True):
        image = QImage(str(png))
        assert (image.width(), image.height()) == (size, size), png
    assert resource_path("icons", "cloud.svg").is_file()


def test_the_desktop_entry_names_the_icon_and_the_command() -> None:
    text = desktop_entry().read_text()
    assert f"Icon={APP_ID}\n" in text and "Exec=sdgui\n" in text
    assert f'<launchable type="desktop-id">{APP_ID}.desktop</launchable>' in metainfo().read_text()


@pytest.mark.skipif(not shutil.which("desktop-file-validate"), reason="desktop-file-utils is not installed")
def test_desktop_file_validate_passes() -> None:
    result = subprocess.run(["desktop-file-validate", str(desktop_entry())], capture_output=True, text=True)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.skipif(not shutil.which("appstreamcli"), reason="appstream is not installed")
def test_appstreamcli_validate_passes() -> None:
    result = subprocess.run(
        ["appstreamcli", "validate", "--no-net", str(metainfo())], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_wheel_takes_every_resource() -> None:
    """What setuptools' package-data patterns match is every file under sdgui/resources but the Python module."""
    patterns = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    base = ROOT / "sdgui" / "resources"
    matched = {path for pattern in patterns["sdgui.resources"] for path in base.glob(pattern) if path.is_file()}
    present = {path for path in base.rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    assert present - matched == {base / "__init__.py"}
