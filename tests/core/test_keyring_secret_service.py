"""SecretStore against a real Secret Service (gnome-keyring on a private D-Bus session)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = """
import keyring
from sdgui.core.secrets import SecretStore
print(type(keyring.get_keyring()).__module__)
store = SecretStore(service="sdgui-test")
store.set("vol", "s3cr3t-value-xyz")
assert store.get("vol") == "s3cr3t-value-xyz"
store.delete("vol")
assert store.get("vol") is None
print("round-trip ok")
"""


@pytest.mark.skipif(not shutil.which("dbus-run-session") or not shutil.which("gnome-keyring-daemon"), reason="no dbus")
def test_secret_round_trip_through_gnome_keyring(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_RUNTIME_DIR=str(runtime), HOME=str(tmp_path))
    command = (
        "echo -n ci | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
        f'exec "{sys.executable}" -c "$SDGUI_SCRIPT"'
    )
    env["SDGUI_SCRIPT"] = SCRIPT
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", command], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "SecretService" in result.stdout
    assert "round-trip ok" in result.stdout
    assert "s3cr3t-value-xyz" not in result.stderr
