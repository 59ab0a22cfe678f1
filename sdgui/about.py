"""What a bug report needs: the version, where the log, settings and data are, and what sdgui runs on."""

from __future__ import annotations

import importlib.metadata
import platform
import sys

from sdgui import __version__
from sdgui.core import errors
from sdgui.core.volumes import cache_dir, config_dir, data_dir
from sdgui.logs import log_file

# (distribution, what to call it): the libraries whose version changes what sdgui does.
_LIBRARIES = (
    ("PySide6_Essentials", "PySide6"),
    ("obstore", "obstore"),
    ("botocore", "botocore"),
    ("keyring", "keyring"),
    ("blake3", "blake3"),
)


def _version_of(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def _licence() -> str:
    try:
        metadata = importlib.metadata.metadata("sdgui")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree that was never installed
        return "MIT"
    found = (metadata.get_all("License-Expression") or []) + (metadata.get_all("License") or [])
    return str(found[0]) if found else "MIT"


def _keyring_backend() -> str:
    try:
        import keyring

        backend = keyring.get_keyring()
    except Exception as exc:  # a broken keyring is what the user may be reporting
        return f"unavailable ({type(exc).__name__})"
    return f"{type(backend).__module__}.{type(backend).__qualname__}"


def _demo_server() -> str:
    from sdgui.demo import rclone_binary

    try:
        return rclone_binary()
    except errors.ConfigError as exc:
        return str(exc)


def about_lines() -> list[tuple[str, str]]:
    """(label, value) pairs, the version first; quick: nothing here opens a window or reaches the network."""
    frozen = " (bundle)" if getattr(sys, "frozen", False) else ""
    lines = [
        ("sdgui", f"{__version__}{frozen}"),
        ("licence", _licence()),
        ("log file", str(log_file())),
        ("settings", str(config_dir())),
        ("data", str(data_dir())),
        ("cache", str(cache_dir())),
        ("python", f"{platform.python_version()} ({sys.executable})"),
        ("system", platform.platform()),
    ]
    lines += [(label, _version_of(distribution)) for distribution, label in _LIBRARIES]
    lines += [("keyring backend", _keyring_backend()), ("demo server", _demo_server())]
    return lines
