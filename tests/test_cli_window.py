"""The sdgui command without a subcommand: the window, the demo, and what is said when neither can run."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from sdgui.core.volumes import data_dir
from tests.test_cli import SUBPROCESS_TIMEOUT, MiB, run


def test_no_window_without_gui(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sdgui.gui.app", None)  # makes the import fail as if it were missing
    code, out, err = run(capsys)
    assert (code, out) == (1, "")
    assert len(err.splitlines()) == 1 and "window is not available" in err


def test_demo_without_gui_falls_back_to_headless(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "sdgui.gui.app", None)
    calls: list[str] = []

    def headless_demo() -> int:
        calls.append("demo")
        return 0

    monkeypatch.setattr("sdgui.demo.run_headless_demo", headless_demo)
    code, out, _ = run(capsys, "--demo")
    assert code == 0 and calls == ["demo"]
    assert "headless demo" in out


def test_headless_demo_end_to_end() -> None:
    process = subprocess.run(
        [sys.executable, "-c", "from sdgui.demo import run_headless_demo; raise SystemExit(run_headless_demo())"],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT,
        env=os.environ.copy(),
        check=False,
    )
    assert process.returncode == 0, process.stderr
    root = data_dir()
    sample, download = root / "demo-sample", root / "demo-download" / "sample"
    copied = sorted(p.relative_to(sample) for p in sample.rglob("*") if p.is_file())
    assert len(copied) == 4
    for rel in copied:
        assert (download / rel).read_bytes() == (sample / rel).read_bytes()
        assert (root / "demo-s3" / "demo" / "sample" / rel).read_bytes() == (sample / rel).read_bytes()
    assert (sample / "random.bin").stat().st_size == 20 * MiB
    assert str(download) in process.stdout

    config = tomllib.loads((Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").read_text())
    demo = config["volumes"]["demo"]
    assert demo["secret_env"] == "SDGUI_DEMO_SECRET" and demo["allow_http"] is True
    port = int(demo["endpoint"].rsplit(":", 1)[1])
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0  # the server was stopped


def test_unexpected_error_is_one_line(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(args: object) -> int:
        raise RuntimeError("something odd")

    monkeypatch.setattr("sdgui.cli.ls", boom)
    code, _, err = run(capsys, "ls", "/")
    assert code == 1
    assert err == "sdgui: unexpected error: RuntimeError: something odd (run with --verbose for details)\n"


def test_window_without_a_display_says_so(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "sdgui"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "no display" in result.stderr and "Traceback" not in result.stderr


def test_demo_window_closes_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.update(SDGUI_CONFIG_DIR=str(tmp_path / "config"), SDGUI_DATA_DIR=str(tmp_path / "data"))
    process = subprocess.Popen(
        [sys.executable, "-m", "sdgui", "--demo"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        deadline = time.monotonic() + 60
        ready = ""
        while "close the window or press Ctrl-C" not in ready:  # printed once the window is shown
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the demo window did not open"
            readable, _, _ = select.select([process.stdout], [], [], 0.5)
            if readable:
                ready += process.stdout.readline()
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err and "unexpected error" not in err
    log = (tmp_path / "data" / "demo-s3.log").read_text()
    assert "Starting s3 server" in log
