"""Fixtures shared by the window's tests: isolated QSettings and a moto bucket registered as volume "cloud"."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QSettings

from sdgui.gui.gui_thread_gc import GuiThreadCollector
from tests.copying import add_volume
from tests.servers import S3Server


@pytest.fixture(scope="session", autouse=True)
def gui_thread_gc(qapp: QCoreApplication) -> Iterator[None]:
    """As the app does: cycles are collected in the GUI thread only (see sdgui.gui.gui_thread_gc)."""
    collector = GuiThreadCollector()
    yield
    collector.stop()


@pytest.fixture
def settings_dir(qapp: QCoreApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Send the window's QSettings() to an INI file under tmp_path: the user's real settings are never read or
    written. Organization and application names are test values, restored afterwards."""
    directory = tmp_path / "qsettings"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # "~/" is where a pane starts without saved settings
    (tmp_path / "home").mkdir()
    names = (QCoreApplication.organizationName(), QCoreApplication.applicationName())
    QCoreApplication.setOrganizationName("sdgui-tests")
    QCoreApplication.setApplicationName("main-window")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(directory))
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.SystemScope, str(directory / "system"))
    yield directory
    QSettings.setDefaultFormat(QSettings.Format.NativeFormat)
    QCoreApplication.setOrganizationName(names[0])
    QCoreApplication.setApplicationName(names[1])


@pytest.fixture
def cloud(moto_s3: S3Server) -> Iterator[str]:
    """A fresh moto bucket registered as volume ``cloud``."""
    moto_s3.ensure_running()
    bucket = moto_s3.new_bucket("gui")
    add_volume(moto_s3, bucket, "cloud")
    yield bucket
    moto_s3.delete_bucket(bucket)
