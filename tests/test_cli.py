"""The sdgui command against real S3 servers: ls, copy and move, conflicts, and the helpers the CLI's other test
files share (volumes: test_cli_volumes.py; Ctrl-C: test_cli_signals.py; the window and the demo:
test_cli_window.py)."""

from __future__ import annotations

import io
import json
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from sdgui.cli import main
from tests.servers import S3Server

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
