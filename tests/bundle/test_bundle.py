"""The built one-folder bundle, as a person runs it: ``--version``, a CLI copy against a real S3 server, the
system keyring, and the window (with the demo server the bundle carries) under X.

``make package-test`` runs these with SDGUI_BUNDLE naming the built program; without it they are not collected.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import socket
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from sdgui import __version__
from sdgui.resources import APP_ID
from tests.servers import S3Server

BUNDLE = Path(os.environ.get("SDGUI_BUNDLE", "dist/sdgui/sdgui")).resolve()
SECRET_ENV = "SDGUI_BUNDLE_SECRET"
TIMEOUT = 60.0
MiB = 1024 * 1024

pytestmark = pytest.mark.timeout(180)


def run(*args: str, env: dict[str, str] | None = None, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(BUNDLE), *args], env=env, input=stdin, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )


def test_the_bundle_is_built_with_its_desktop_files() -> None:
    assert BUNDLE.is_file() and os.access(BUNDLE, os.X_OK), f"no bundle at {BUNDLE}: run `make package` first"
    share = BUNDLE.parent / "share"
    assert (share / "applications" / f"{APP_ID}.desktop").is_file()
    assert (share / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    assert (share / "icons" / "hicolor" / "256x256" / "apps" / f"{APP_ID}.png").is_file()
    assert (share / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg").is_file()


def test_version() -> None:
    result = run("--version")
    assert (result.returncode, result.stdout, result.stderr) == (0, f"sdgui {__version__}\n", "")


def test_version_verbose_says_where_the_log_is_and_finds_the_demo_server_inside() -> None:
    result = run("--version", "--verbose")
    assert result.returncode == 0, result.stderr
    fields = dict(line.strip().split(": ", 1) for line in result.stdout.splitlines()[1:])
    assert result.stdout.startswith(f"sdgui {__version__} (bundle)\n")
    assert fields["log file"].strip() == str(Path(os.environ["SDGUI_LOG_DIR"]) / "sdgui.log")
    assert Path(fields["demo server"].strip()).is_relative_to(BUNDLE.parent)
    assert "not installed" not in result.stdout  # the metadata of the libraries made it into the bundle


def test_cli_copy_up_and_down(rclone_s3: S3Server, tmp_path: Path) -> None:
    bucket = rclone_s3.new_bucket("bundle")
    env = {**os.environ, SECRET_ENV: rclone_s3.secret_access_key}
    added = run(
        *("volume", "add", "cloud", "--kind", "s3", "--bucket", bucket, "--endpoint", rclone_s3.endpoint),
        *("--allow-http", "--access-key-id", rclone_s3.access_key_id, "--secret-env", SECRET_ENV),
        env=env,
    )
    assert added.returncode == 0, added.stderr
    source = tmp_path / "tree"
    (source / "sub").mkdir(parents=True)
    files = {"one.txt": b"one\n", "sub/two.bin": os.urandom(3 * MiB), "big.bin": os.urandom(20 * MiB)}
    for rel, body in files.items():
        (source / rel).write_bytes(body)

    up = run("copy", "--verbose", str(source), "cloud:up/", env=env)
    assert up.returncode == 0, up.stderr
    assert "3 files" in up.stdout.splitlines()[-1]
    down = run("copy", "cloud:up/tree/", f"{tmp_path / 'down'}/", env=env)
    assert down.returncode == 0, down.stderr
    assert "3 verified" in down.stdout.splitlines()[-1]
    for rel, body in files.items():
        assert (tmp_path / "down" / "tree" / rel).read_bytes() == body

    log = (Path(os.environ["SDGUI_LOG_DIR"]) / "sdgui.log").read_text()
    assert "copy ended with exit code 0" in log
    assert rclone_s3.secret_access_key not in log + up.stderr + down.stderr


def test_the_command_line_starts_without_qt(tmp_path: Path) -> None:
    """A command of the CLI loads no Qt library before its first request (PyInstaller's own PySide6 hook would load
    QtCore at every start): seen in the process's memory map while it waits on an endpoint that accepts and says
    nothing."""
    env = {**os.environ, SECRET_ENV: "not-a-real-secret"}
    with socket.create_server(("127.0.0.1", 0)) as listener:
        listener.settimeout(TIMEOUT)
        endpoint = f"http://127.0.0.1:{listener.getsockname()[1]}"
        added = run(
            *("volume", "add", "silent", "--kind", "s3", "--bucket", "b", "--endpoint", endpoint, "--allow-http"),
            *("--access-key-id", "someone", "--secret-env", SECRET_ENV),
            env=env,
        )
        assert added.returncode == 0, added.stderr
        process = subprocess.Popen([str(BUNDLE), "ls", "silent:"], env=env, stdout=subprocess.DEVNULL)
        try:
            connection, _ = listener.accept()  # the first request is on its way: the process waits for an answer
            with connection:
                maps = Path(f"/proc/{process.pid}/maps").read_text()
        finally:
            process.kill()
            process.wait(TIMEOUT)
    loaded = {Path(fields[5]).name for fields in map(str.split, maps.splitlines()) if len(fields) >= 6}
    assert any(name.startswith("libpython") for name in loaded), sorted(loaded)  # the map is the bundle's
    assert not [name for name in loaded if "Qt6" in name or name.startswith("QtCore")], sorted(loaded)


@pytest.mark.skipif(not shutil.which("dbus-run-session") or not shutil.which("gnome-keyring-daemon"), reason="no dbus")
def test_secret_service_keyring(rclone_s3: S3Server, tmp_path: Path) -> None:
    """keyring's Secret Service backend made it into the bundle: a secret typed at `volume add` is stored in
    gnome-keyring and used by `ls`."""
    bucket = rclone_s3.new_bucket("keyring")
    runtime = tmp_path / "run"
    runtime.mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    env.update(XDG_DATA_HOME=str(tmp_path / "data"), XDG_RUNTIME_DIR=str(runtime), HOME=str(tmp_path))
    env.update(SDGUI_SECRET=rclone_s3.secret_access_key, SDGUI_BUNDLE_PROGRAM=str(BUNDLE))
    add = f"volume add vault --kind s3 --bucket {bucket} --endpoint {rclone_s3.endpoint} --allow-http"
    script = (
        "set -e; echo -n ci | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
        '"$SDGUI_BUNDLE_PROGRAM" --version --verbose; '
        f'echo "$SDGUI_SECRET" | "$SDGUI_BUNDLE_PROGRAM" {add} --access-key-id {rclone_s3.access_key_id}; '
        '"$SDGUI_BUNDLE_PROGRAM" ls vault:'
    )
    result = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", script], env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "keyring backend: keyring.backends.SecretService.Keyring" in result.stdout
    volumes = tomllib.loads((Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").read_text())
    assert "secret_env" not in volumes["volumes"]["vault"]  # the secret went to the keyring, not an env variable
    assert rclone_s3.secret_access_key not in (Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").read_text()


@pytest.mark.parametrize("demo", [False, True], ids=["window", "demo"])
def test_the_window_opens_and_closes(tmp_path: Path, demo: bool) -> None:
    """Started as a person starts it, the window paints, and closes cleanly on SIGTERM; with --demo on the demo
    server the bundle carries."""
    if not os.environ.get("DISPLAY"):
        pytest.fail("no X display: run the bundle tests under xvfb-run (make package-test does)")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb", "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "cfg")}
    started = time.monotonic()
    process = subprocess.Popen(
        [str(BUNDLE), *(["--demo"] if demo else []), "--verbose"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = ""
    try:
        assert process.stdout is not None
        while "window painted" not in output:
            assert process.poll() is None, output + process.stdout.read()
            assert time.monotonic() - started < TIMEOUT, f"no window in {TIMEOUT:.0f} s:\n{output}"
            if select.select([process.stdout], [], [], 0.5)[0]:
                output += process.stdout.readline()
        painted = time.monotonic() - started
        process.send_signal(signal.SIGTERM)  # what a session's logout sends: the window closes the normal way
        rest, _ = process.communicate(timeout=TIMEOUT)
        output += rest
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, output
    assert "Traceback" not in output and "WARNING" not in output, output
    own_clock = output.split("window painted", 1)[1].split()[0]
    label = "bundle --demo" if demo else "bundle"
    print(f"\n{label}: window painted {painted:.2f} s after start ({own_clock} s by the process's own clock)")
    if not demo:
        return
    config = tomllib.loads((Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").read_text())
    port = int(config["volumes"]["demo"]["endpoint"].rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # the bundle's rclone served the demo, and was stopped
