"""The sdgui command against real S3 servers: volumes, ls, copy and move, conflicts, Ctrl-C and the demo."""

from __future__ import annotations

import contextlib
import io
import json
import os
import queue
import select
import signal
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from botocore.exceptions import ClientError
from keyring.backends import fail

from sdgui.cli import main
from sdgui.core.volumes import data_dir
from tests.keyrings import MemoryKeyring
from tests.servers import LOOPBACK, S3Server

MiB = 1024 * 1024
SECRET_ENV = "SDGUI_TEST_SECRET"
SUBPROCESS_TIMEOUT = 30.0
HEX64 = set("0123456789abcdef")


# -- helpers --------------------------------------------------------------------------------------------------


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; (exit code, stdout, stderr)."""
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def events(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def of_type(parsed: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [event for event in parsed if event["type"] == kind]


def add_volume(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    server: S3Server,
    bucket: str,
    *,
    name: str = "cloud",
    secret: str | None = None,
    endpoint: str | None = None,
) -> None:
    monkeypatch.setenv(SECRET_ENV, secret or server.secret_access_key)
    code, _, err = run(
        capsys,
        *("volume", "add", name, "--kind", "s3", "--bucket", bucket, "--allow-http"),
        *("--endpoint", endpoint or server.endpoint, "--access-key-id", server.access_key_id),
        *("--secret-env", SECRET_ENV),
    )
    assert code == 0, err


def put(server: S3Server, bucket: str, key: str, body: bytes) -> None:
    server.client().put_object(Bucket=bucket, Key=key, Body=body)


def get(server: S3Server, bucket: str, key: str) -> bytes:
    return bytes(server.client().get_object(Bucket=bucket, Key=key)["Body"].read())


def keys(server: S3Server, bucket: str) -> list[str]:
    listed = server.client().list_objects_v2(Bucket=bucket)
    return sorted(obj["Key"] for obj in listed.get("Contents", []))


def exists(server: S3Server, bucket: str, key: str) -> bool:
    try:
        server.client().head_object(Bucket=bucket, Key=key)
    except ClientError as exc:
        if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def sdgui(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """The CLI as a real process (same interpreter and environment, so the same config and data dirs)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sdgui", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env=os.environ.copy(),
        **kwargs,
    )


class JsonLines:
    """Reads a process's stdout in a thread, so a test can wait for an event with a deadline."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        assert process.stdout is not None
        self.process = process
        self.seen: list[dict[str, Any]] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._thread = threading.Thread(target=self._pump, args=(process.stdout,), daemon=True)
        self._thread.start()

    def _pump(self, stream: io.TextIOBase) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, predicate: Callable[[dict[str, Any]], bool], timeout: float = SUBPROCESS_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no matching event in {timeout} s; seen: {self.seen[-3:]}") from None
            if line is None:
                raise AssertionError(f"the process ended first (code {self.process.wait()}); seen: {self.seen[-3:]}")
            self.seen.append(json.loads(line))
            if predicate(self.seen[-1]):
                return

    def finish(self) -> tuple[int, list[dict[str, Any]], str]:
        """Wait for the process; (exit code, every event, stderr)."""
        assert self.process.stdout is not None and self.process.stderr is not None
        code = self.process.wait(timeout=SUBPROCESS_TIMEOUT)
        self._thread.join(timeout=SUBPROCESS_TIMEOUT)
        while (line := self._queue.get_nowait()) is not None:
            self.seen.append(json.loads(line))
        with self.process.stdout, self.process.stderr:
            return code, self.seen, self.process.stderr.read()


def started_transfer(event: dict[str, Any]) -> bool:
    return event["type"] == "progress" and int(event["bytes_done"]) > 0


# -- volumes --------------------------------------------------------------------------------------------------


def test_volume_add_list_remove_round_trip(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "very-secret-value-0123456789"
    monkeypatch.setenv(SECRET_ENV, secret)
    code, out, err = run(
        capsys,
        *("volume", "add", "photos", "--kind", "s3", "--bucket", "my-photos", "--region", "eu-west-1"),
        *("--access-key-id", "AKIAEXAMPLE", "--secret-env", SECRET_ENV, "--prefix", "2024"),
    )
    assert (code, err) == (0, "")
    assert SECRET_ENV in out
    assert run(capsys, "volume", "add", "disk", "--kind", "local", "--root", "/srv/data")[0] == 0

    code, out, _ = run(capsys, "volume", "list")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["NAME", "KIND", "BUCKET/ROOT", "ENDPOINT", "IDENTITY"]
    assert [row.split(maxsplit=4) for row in rows] == [
        ["disk", "local", "/srv/data", "-", "local disk"],
        ["photos", "s3", "my-photos/2024", "-", f"access key AKIAEXAMPLE (environment variable {SECRET_ENV})"],
    ]
    code, out, _ = run(capsys, "volume", "list", "--json")
    listed = {volume["name"]: volume for volume in events(out)}
    assert listed["photos"]["secret_env"] == SECRET_ENV
    assert listed["photos"]["access_key_id"] == "AKIAEXAMPLE"
    assert listed["photos"]["identity"] == f"access key AKIAEXAMPLE (environment variable {SECRET_ENV})"
    assert listed["disk"]["root"] == "/srv/data"

    volumes_file = Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml"
    assert secret not in volumes_file.read_text()
    assert tomllib.loads(volumes_file.read_text())["volumes"]["photos"]["bucket"] == "my-photos"

    code, _, err = run(capsys, "volume", "add", "photos", "--kind", "s3", "--bucket", "other")
    assert code == 1
    assert err.startswith("sdgui: config error") and "already exists" in err and len(err.splitlines()) == 1

    assert run(capsys, "volume", "remove", "photos")[0] == 0
    assert run(capsys, "volume", "remove", "disk")[0] == 0
    code, out, _ = run(capsys, "volume", "list")
    assert code == 0 and "no volumes" in out
    code, _, err = run(capsys, "volume", "remove", "photos")
    assert code == 1 and err.startswith("sdgui: not-found error")


def test_volume_add_keeps_the_secret_in_the_keyring(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    secret = "typed-secret-9876543210"
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    code, out, err = run(
        capsys,
        *("volume", "add", "kr", "--kind", "s3", "--bucket", "b", "--endpoint", "http://127.0.0.1:9"),
        *("--allow-http", "--access-key-id", "AK-1"),
    )
    assert (code, err) == (0, "")
    assert "keyring" in out and secret not in out
    assert keyring.get_password("sdgui", "kr") == secret
    assert secret not in (Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").read_text()

    assert run(capsys, "volume", "remove", "kr")[0] == 0
    assert keyring.get_password("sdgui", "kr") is None


def test_volume_add_without_keyring_suggests_secret_env(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    secret = "typed-secret-without-keyring"
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    code, out, err = run(capsys, "volume", "add", "nokr", "--kind", "s3", "--bucket", "b", "--access-key-id", "AK-2")
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith("sdgui: keyring error") and "--secret-env" in err
    assert secret not in out + err
    assert not (Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").exists()


def test_volume_test_passes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, bucket: str
) -> None:
    add_volume(capsys, monkeypatch, s3_server, bucket)
    code, out, err = run(capsys, "volume", "test", "cloud")
    assert (code, err) == (0, "")
    assert [line.split()[:2] for line in out.splitlines()] == [
        ["✓", "list"],
        ["✓", "write"],
        ["✓", "read"],
        ["✓", "delete"],
    ]
    assert keys(s3_server, bucket) == []  # the probe is gone


def test_wrong_secret_is_a_credentials_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, rclone_s3: S3Server, tmp_path: Path
) -> None:
    bucket = rclone_s3.new_bucket()
    try:
        add_volume(capsys, monkeypatch, rclone_s3, bucket, secret="not-the-right-secret")
        code, out, err = run(capsys, "volume", "test", "cloud")
        assert code == 1
        assert out.splitlines()[-1].startswith("✗ list")
        assert len(err.splitlines()) == 1
        assert err.startswith("sdgui: credentials error") and "not-the-right-secret" not in err

        (tmp_path / "f.txt").write_text("data")
        code, out, err = run(capsys, "copy", str(tmp_path / "f.txt"), "cloud:")
        assert code == 1
        assert len(err.splitlines()) == 1, err  # the fatal error once, not once per file and once for the job
        assert err.startswith("sdgui: credentials error") and "not-the-right-secret" not in out + err
    finally:
        rclone_s3.delete_bucket(bucket)


def test_volume_test_unreachable_is_a_network_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server, closed_port_endpoint: str
) -> None:
    add_volume(capsys, monkeypatch, moto_s3, "any-bucket", endpoint=closed_port_endpoint)
    code, out, err = run(capsys, "volume", "test", "cloud")
    assert code == 1
    assert out.splitlines()[-1].startswith("✗ list")
    assert len(err.splitlines()) == 1 and err.startswith("sdgui: network error")


def test_volume_test_missing_secret_env(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server
) -> None:
    add_volume(capsys, monkeypatch, moto_s3, "any-bucket")
    monkeypatch.delenv(SECRET_ENV)
    code, out, err = run(capsys, "volume", "test", "cloud")
    assert (code, out) == (1, "")
    assert err.startswith("sdgui: credentials error") and f"{SECRET_ENV} is not set" in err


# -- ls -------------------------------------------------------------------------------------------------------


def test_ls_prefix_file_and_root(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, bucket: str
) -> None:
    for key, body in (("docs/a.txt", b"a" * 10), ("docs/b.txt", b"bb"), ("docs/sub/c.txt", b"c"), ("top.txt", b"")):
        put(s3_server, bucket, key, body)
    add_volume(capsys, monkeypatch, s3_server, bucket)

    code, out, err = run(capsys, "ls", "cloud:docs/")
    assert (code, err) == (0, "")
    rows = [line.split() for line in out.splitlines()]
    assert [(row[0], row[-1]) for row in rows] == [("file", "a.txt"), ("file", "b.txt"), ("dir", "sub/")]
    assert rows[0][1:3] == ["10", "bytes"]

    code, out, _ = run(capsys, "ls", "cloud:docs", "--json")
    listed = {entry["name"]: entry for entry in events(out)}
    assert code == 0 and set(listed) == {"a.txt", "b.txt", "sub"}
    assert listed["a.txt"] | {"modified": None} == {
        "kind": "file",
        "name": "a.txt",
        "key": "docs/a.txt",
        "location": "cloud:docs",
        "size": 10,
        "modified": None,
    }
    assert listed["a.txt"]["modified"] is not None
    assert listed["sub"]["kind"] == "dir" and listed["sub"]["size"] is None

    code, out, _ = run(capsys, "ls", "cloud:docs/b.txt", "--json")
    assert code == 0 and [(e["name"], e["size"]) for e in events(out)] == [("b.txt", 2)]
    code, out, _ = run(capsys, "ls", "cloud:")
    assert code == 0 and [line.split()[-1] for line in out.splitlines()] == ["docs/", "top.txt"]

    code, out, err = run(capsys, "ls", "cloud:nothing-here/")
    assert (code, out) == (1, "") and err.startswith("sdgui: not-found error")


def test_ls_local_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file.bin").write_bytes(b"x" * 2048)
    code, out, _ = run(capsys, "ls", str(tmp_path))
    assert code == 0
    assert [(line.split()[0], line.split()[1], line.split()[-1]) for line in out.splitlines()] == [
        ("dir", "-", "dir/"),
        ("file", "2.0", "file.bin"),
    ]
    code, _, err = run(capsys, "ls", str(tmp_path / "missing"))
    assert code == 1 and err.startswith("sdgui: not-found error")


# -- copy and move --------------------------------------------------------------------------------------------


def make_tree(root: Path) -> dict[str, bytes]:
    files = {"one.txt": b"one\n", "sub/two.txt": b"two\n" * 100, "big.bin": os.urandom(20 * MiB)}
    for rel, body in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(body)
    return files


def test_copy_up_and_down_json(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    s3_server: S3Server,
    bucket: str,
    tmp_path: Path,
) -> None:
    files = make_tree(tmp_path / "tree")
    add_volume(capsys, monkeypatch, s3_server, bucket)
    total = sum(len(body) for body in files.values())

    code, out, err = run(capsys, "copy", str(tmp_path / "tree"), "cloud:up/", "--json")
    assert (code, err) == (0, "")
    parsed = events(out)
    # Only "scanning" progress may come before job_started: the job counts the files first.
    first = next(event["type"] for event in parsed if event["type"] != "progress")
    assert first == "job_started"
    started = of_type(parsed, "job_started")[0]
    assert (started["files"], started["bytes_total"]) == (3, total)
    done = {event["destination"]: event for event in of_type(parsed, "file_done")}
    assert set(done) == {f"cloud:up/tree/{rel}" for rel in files}
    assert all(set(event["blake3"]) <= HEX64 and len(event["blake3"]) == 64 for event in done.values())
    assert {event["verified"] for event in done.values()} == {"provider-checked"}
    assert parsed[-1]["type"] == "job_finished"
    assert (parsed[-1]["files_done"], parsed[-1]["bytes_done"]) == (3, total)
    assert all(event["bytes_done"] <= total for event in of_type(parsed, "progress"))
    assert get(s3_server, bucket, "up/tree/big.bin") == files["big.bin"]

    code, out, err = run(capsys, "copy", "cloud:up/tree/", str(tmp_path / "down") + "/", "--json")
    assert (code, err) == (0, "")
    parsed = events(out)
    assert {event["verified"] for event in of_type(parsed, "file_done")} == {"verified"}
    assert {e["blake3"] for e in of_type(parsed, "file_done")} == {e["blake3"] for e in done.values()}
    assert parsed[-1]["type"] == "job_finished" and parsed[-1]["verified"] == 3
    for rel, body in files.items():
        assert (tmp_path / "down" / "tree" / rel).read_bytes() == body

    code, out, err = run(capsys, "copy", str(tmp_path / "tree" / "one.txt"), "cloud:rb.txt", "--verify-readback")
    assert (code, err) == (0, "")
    assert "1 verified" in out.splitlines()[-1]
    assert get(s3_server, bucket, "rb.txt") == files["one.txt"]


def test_copy_plain_output_summary(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"hello")
    code, out, err = run(capsys, "copy", str(tmp_path / "a.txt"), str(tmp_path / "b.txt"), "--no-verify")
    assert (code, err) == (0, "")
    assert out.splitlines()[-1].startswith("copied 1 file, 5 bytes in ")
    assert out.splitlines()[-1].endswith("0 verified, 0 provider-checked, 1 unverified")
    assert (tmp_path / "b.txt").read_bytes() == b"hello"


def test_missing_source_is_one_line_and_exit_1(tmp_path: Path) -> None:
    process = sdgui("copy", str(tmp_path / "missing.txt"), str(tmp_path / "out") + "/")
    out, err = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    assert process.returncode == 1
    assert out == ""
    assert len(err.splitlines()) == 1, err
    assert err.startswith("sdgui: not-found error") and "missing.txt" in err

    process = sdgui("copy", str(tmp_path / "missing.txt"), str(tmp_path / "out") + "/", "--json")
    out, err = process.communicate(timeout=SUBPROCESS_TIMEOUT)
    assert process.returncode == 1
    assert [event["type"] for event in events(out)] == ["job_failed"]
    assert events(out)[0]["error"] == "not-found"
    assert len(err.splitlines()) == 1


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["copy", "only-one"]) == 2
    assert "required: DST" in capsys.readouterr().err
    assert main(["copy", "a", "b", "--on-conflict", "maybe"]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_on_conflict_policies(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    s3_server: S3Server,
    bucket: str,
    tmp_path: Path,
) -> None:
    add_volume(capsys, monkeypatch, s3_server, bucket)
    local = tmp_path / "a.txt"
    local.write_bytes(b"first")
    assert run(capsys, "copy", str(local), "cloud:c/")[0] == 0
    local.write_bytes(b"second")

    code, _, err = run(capsys, "copy", str(local), "cloud:c/")
    assert code == 1
    assert "conflict error" in err and "--on-conflict" in err
    assert get(s3_server, bucket, "c/a.txt") == b"first"

    code, out, _ = run(capsys, "copy", str(local), "cloud:c/", "--on-conflict", "skip", "--json")
    assert code == 0
    assert [e["type"] for e in events(out) if e["type"] != "progress"] == [
        "job_started",
        "file_skipped",
        "job_finished",
    ]
    assert get(s3_server, bucket, "c/a.txt") == b"first"

    assert run(capsys, "copy", str(local), "cloud:c/", "--on-conflict", "rename")[0] == 0
    assert keys(s3_server, bucket) == ["c/a (1).txt", "c/a.txt"]
    assert get(s3_server, bucket, "c/a (1).txt") == b"second"

    assert run(capsys, "copy", str(local), "cloud:c/", "--on-conflict", "overwrite")[0] == 0
    assert get(s3_server, bucket, "c/a.txt") == b"second"


def test_move_deletes_the_source_only_after_success(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    s3_server: S3Server,
    bucket: str,
    tmp_path: Path,
) -> None:
    add_volume(capsys, monkeypatch, s3_server, bucket)
    local = tmp_path / "m.txt"
    local.write_bytes(b"moving")
    code, out, _ = run(capsys, "move", str(local), "cloud:m/", "--json")
    assert code == 0
    assert [e["source_deleted"] for e in of_type(events(out), "file_done")] == [True]
    assert not local.exists()
    assert get(s3_server, bucket, "m/m.txt") == b"moving"

    local.write_bytes(b"kept")  # the destination exists now: the move fails and keeps its source
    code, _, err = run(capsys, "move", str(local), "cloud:m/")
    assert code == 1 and "conflict error" in err
    assert local.read_bytes() == b"kept"

    code, _, _ = run(capsys, "move", "cloud:m/m.txt", str(tmp_path / "back") + "/")
    assert code == 0
    assert (tmp_path / "back" / "m.txt").read_bytes() == b"moving"
    assert not exists(s3_server, bucket, "m/m.txt")


def test_many_short_runs_exit_0(monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server, tmp_path: Path) -> None:
    """obstore can abort the interpreter at exit; every run of a successful copy must still exit 0."""
    bucket = moto_s3.new_bucket()
    monkeypatch.setenv(SECRET_ENV, moto_s3.secret_access_key)
    for i in range(8):
        (tmp_path / "src" / f"f{i}.txt").parent.mkdir(exist_ok=True)
        (tmp_path / "src" / f"f{i}.txt").write_text(f"file {i}\n")
    try:
        main(["volume", "add", "cloud", "--kind", "s3", "--bucket", bucket, "--endpoint", moto_s3.endpoint,
              "--allow-http", "--access-key-id", moto_s3.access_key_id, "--secret-env", SECRET_ENV])  # fmt: skip
        for _ in range(6):
            process = sdgui("copy", str(tmp_path / "src"), "cloud:", "--on-conflict", "overwrite", "--json")
            out, err = process.communicate(timeout=SUBPROCESS_TIMEOUT)
            assert process.returncode == 0, err
            assert events(out)[-1]["type"] == "job_finished"
    finally:
        moto_s3.delete_bucket(bucket)


# -- Ctrl-C ---------------------------------------------------------------------------------------------------


class ThrottlingProxy:
    """A TCP proxy on loopback passing at most ``rate`` bytes/s (both directions, all connections together).

    It makes a loopback server behave like a slow link, so a transfer is still running when the signal comes.
    (rclone's --bwlimit does not help for uploads: it accepts parts at full speed and throttles completion.)
    """

    def __init__(self, upstream: str, rate: int) -> None:
        self.upstream = (LOOPBACK, int(upstream.rsplit(":", 1)[1]))
        self.rate = rate
        self.listener = socket.create_server((LOOPBACK, 0))
        self.listener.settimeout(0.2)
        self.endpoint = f"http://{LOOPBACK}:{self.listener.getsockname()[1]}"
        self._lock = threading.Lock()
        self._next_slot = time.monotonic()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets += [client, server]
            for source, target in ((client, server), (server, client)):
                thread = threading.Thread(target=self._pipe, args=(source, target), daemon=True)
                self._threads.append(thread)
                thread.start()

    def _pipe(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(64 * 1024):
                with self._lock:
                    self._next_slot = max(self._next_slot, time.monotonic()) + len(chunk) / self.rate
                    release_at = self._next_slot
                time.sleep(max(0.0, release_at - time.monotonic()))  # rate limiting, not synchronisation
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._closed.set()
        self.listener.close()
        with self._lock:
            for sock in self._sockets:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)  # wakes a thread blocked in recv, which close() would not
                sock.close()
        for thread in self._threads:
            thread.join(timeout=5)


@pytest.fixture
def slow_link(rclone_s3: S3Server) -> Iterator[ThrottlingProxy]:
    """rclone_s3 behind a 16 MB/s link."""
    rclone_s3.ensure_running()
    proxy = ThrottlingProxy(rclone_s3.endpoint, rate=16 * 1000 * 1000)
    yield proxy
    proxy.close()


@pytest.fixture
def slow_volume(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, rclone_s3: S3Server, slow_link: ThrottlingProxy
) -> Iterator[str]:
    """Volume "cloud" on a fresh bucket of rclone_s3, reached over the slow link; yields the bucket."""
    bucket = rclone_s3.new_bucket()
    add_volume(capsys, monkeypatch, rclone_s3, bucket, endpoint=slow_link.endpoint)
    yield bucket
    rclone_s3.delete_bucket(bucket)


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """128 MiB: well over what an upload reads ahead (obstore's parts in flight plus the pump's queue, ~60 MiB)."""
    path = tmp_path_factory.mktemp("big") / "big.bin"
    path.write_bytes(os.urandom(128 * MiB))
    return path


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_upload_leaves_nothing(
    rclone_s3: S3Server, slow_volume: str, big_file: Path, signum: signal.Signals
) -> None:
    lines = JsonLines(sdgui("copy", str(big_file), "cloud:big.bin", "--json"))
    lines.wait_for(started_transfer)
    assert rclone_s3.open_multipart_uploads(slow_volume)  # mid-upload: parts are on the server
    lines.process.send_signal(signum)
    code, seen, err = lines.finish()
    assert code == 130, err
    assert seen[-1]["type"] == "job_cancelled"
    assert of_type(seen, "file_done") == []
    assert "cancel" in err and "Traceback" not in err
    assert rclone_s3.open_multipart_uploads(slow_volume) == []
    assert not exists(rclone_s3, slow_volume, "big.bin")
    assert keys(rclone_s3, slow_volume) == []


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_signal_mid_download_leaves_nothing(
    rclone_s3: S3Server, slow_volume: str, tmp_path: Path, signum: signal.Signals
) -> None:
    assert rclone_s3.data_dir is not None
    # rclone serves files from disk: placing one there is quicker than uploading it over the slow link.
    (rclone_s3.data_dir / slow_volume / "big.bin").write_bytes(os.urandom(64 * MiB))
    destination = tmp_path / "down"
    destination.mkdir()
    lines = JsonLines(sdgui("copy", "cloud:big.bin", str(destination) + "/", "--json"))
    lines.wait_for(started_transfer)
    partial = [path.name for path in destination.iterdir()]
    assert len(partial) == 1 and partial[0].endswith(".part")  # the download is under way
    lines.process.send_signal(signum)
    code, seen, err = lines.finish()
    assert code == 130, err
    assert seen[-1]["type"] == "job_cancelled"
    assert list(destination.iterdir()) == []


def test_second_sigint_still_waits_for_cleanup(rclone_s3: S3Server, slow_volume: str, big_file: Path) -> None:
    lines = JsonLines(sdgui("copy", str(big_file), "cloud:", "--json"))
    lines.wait_for(started_transfer)
    lines.process.send_signal(signal.SIGINT)
    lines.process.send_signal(signal.SIGINT)
    code, seen, err = lines.finish()
    assert code == 130, err
    assert seen[-1]["type"] == "job_cancelled"  # it waited for the job to end, not just for the signal
    assert rclone_s3.open_multipart_uploads(slow_volume) == []
    assert keys(rclone_s3, slow_volume) == []


# -- the window and the demo ----------------------------------------------------------------------------------


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
        deadline = time.monotonic() + 60
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
