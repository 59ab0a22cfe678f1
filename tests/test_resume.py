"""Resuming jobs after a kill: `sdgui copy` is SIGKILLed mid-transfer, then `sdgui jobs resume` finishes the job
without moving again what was done; a full disk fails its file and the journal says which."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from blake3 import blake3

from sdgui.core.backends.factory import BackendCache
from sdgui.core.backends.local import LocalBackend
from sdgui.core.copy.action import CopyAction
from sdgui.core.copy.events import JobEvent
from sdgui.core.copy.job import FileCopyJob
from sdgui.core.journal import Journal
from sdgui.core.paths import SdPath
from sdgui.core.settings import TransferSettings
from sdgui.core.volumes import VolumeRegistry, data_dir
from tests.copying import add_volume as register_volume
from tests.servers import S3Server
from tests.test_cli import SUBPROCESS_TIMEOUT, JsonLines, add_volume, events, of_type, run, sdgui
from tests.throttling_proxy import ThrottlingProxy

MiB = 1024 * 1024


# -- helpers --------------------------------------------------------------------------------------------------


def put_with_blake3(server: S3Server, bucket: str, key: str, body: bytes) -> str:
    """Upload ``body`` as sdgui would: with its blake3 in the object's metadata. Returns the blake3."""
    digest = blake3(body, max_threads=blake3.AUTO).hexdigest()
    server.client().put_object(Bucket=bucket, Key=key, Body=body, Metadata={"sdgui-blake3": digest})
    return digest


def file_blake3(path: Path) -> str:
    hasher = blake3(max_threads=blake3.AUTO)
    hasher.update_mmap(path)
    return hasher.hexdigest()


def kill_when(lines: JsonLines, predicate: Any) -> str:
    """Wait for an event matching ``predicate``, SIGKILL the process, reap it; returns the job's id."""
    lines.wait_for(predicate)
    lines.process.kill()
    code, seen, _ = lines.finish()
    assert code == -9
    return str(next(e["job_id"] for e in seen if e["type"] == "job_started"))


def past(fraction: float, size: int) -> Any:
    return lambda e: e["type"] == "progress" and e["bytes_done"] >= fraction * size


def unfinished(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    code, out, err = run(capsys, "jobs", "--json")
    assert code == 0, err
    return events(out)


def resume(job_id: str) -> tuple[int, list[dict[str, Any]], str]:
    return JsonLines(sdgui("jobs", "resume", job_id, "--json")).finish()


def partials(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".part"))


@pytest.fixture
def moto_bucket(moto_s3: S3Server) -> Iterator[str]:
    moto_s3.ensure_running()
    bucket = moto_s3.new_bucket()
    yield bucket
    moto_s3.delete_bucket(bucket)  # moto keeps objects in memory


def slow_volume(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, server: S3Server, bucket: str, rate: int
) -> ThrottlingProxy:
    """Volume "cloud" on ``bucket``, reached through a link of ``rate`` bytes/s; close the proxy after."""
    proxy = ThrottlingProxy(server.endpoint, rate=rate)
    add_volume(capsys, monkeypatch, server, bucket, endpoint=proxy.endpoint)
    return proxy


# -- downloads --------------------------------------------------------------------------------------------------


def test_killed_download_resumes_from_its_parts(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    moto_s3: S3Server,
    moto_bucket: str,
    tmp_path: Path,
) -> None:
    size = 256 * MiB
    digest = put_with_blake3(moto_s3, moto_bucket, "big.bin", os.urandom(size))
    proxy = slow_volume(capsys, monkeypatch, moto_s3, moto_bucket, rate=32 * 1000 * 1000)
    down = tmp_path / "down"
    down.mkdir()
    try:
        job_id = kill_when(JsonLines(sdgui("copy", "cloud:big.bin", f"{down}/", "--json")), past(0.5, size))
        assert partials(down) == [f".big.bin.sdgui-{job_id}-0.part"]  # a crash leaves the partial, by name

        [job] = unfinished(capsys)
        assert (job["id"], job["state"], job["files_done"], job["files_total"]) == (job_id, "interrupted", 0, 1)
        assert job["bytes_total"] == size and job["bytes_done"] >= 0.3 * size  # recorded as it went
        assert job["action"]["sources"] == [{"volume": "cloud", "path": "big.bin", "is_dir": False}]

        code, seen, err = resume(job_id)
    finally:
        proxy.close()
    assert code == 0, err
    [done] = of_type(seen, "file_done")
    assert (done["verified"], done["blake3"], done["note"]) == ("verified", digest, "")
    finished = seen[-1]
    assert finished["type"] == "job_finished" and finished["bytes_done"] == size
    assert finished["bytes_resumed"] == done["bytes_resumed"] >= 0.3 * size
    assert finished["bytes_transferred"] == size - finished["bytes_resumed"]
    assert finished["bytes_transferred"] < 0.7 * size
    assert file_blake3(down / "big.bin") == digest
    assert partials(down) == []
    assert unfinished(capsys) == []


def test_changed_source_restarts_the_file(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    moto_s3: S3Server,
    moto_bucket: str,
    tmp_path: Path,
) -> None:
    size = 48 * MiB
    put_with_blake3(moto_s3, moto_bucket, "data.bin", os.urandom(size))
    proxy = slow_volume(capsys, monkeypatch, moto_s3, moto_bucket, rate=16 * 1000 * 1000)
    try:
        job_id = kill_when(JsonLines(sdgui("copy", "cloud:data.bin", f"{tmp_path}/", "--json")), past(0.3, size))
        assert len(partials(tmp_path)) == 1
        changed = put_with_blake3(moto_s3, moto_bucket, "data.bin", os.urandom(size))  # same size, new bytes
        code, seen, err = resume(job_id)
    finally:
        proxy.close()
    assert code == 0, err
    [done] = of_type(seen, "file_done")
    assert (done["verified"], done["blake3"], done["bytes_resumed"]) == ("verified", changed, 0)
    assert "source changed" in done["note"]
    assert seen[-1]["bytes_transferred"] == size
    assert file_blake3(tmp_path / "data.bin") == changed
    assert partials(tmp_path) == []


def test_server_answering_ranges_with_status_200_still_resumes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, rclone_s3: S3Server, tmp_path: Path
) -> None:
    """rclone serve s3 answers a ranged GET with status 200 (and the range's bytes), which obstore refuses: the
    ranges go through botocore, so the killed download keeps its parts like anywhere else."""
    rclone_s3.ensure_running()
    bucket = rclone_s3.new_bucket()
    size = 48 * MiB
    digest = put_with_blake3(rclone_s3, bucket, "data.bin", os.urandom(size))
    proxy = slow_volume(capsys, monkeypatch, rclone_s3, bucket, rate=16 * 1000 * 1000)
    try:
        job_id = kill_when(JsonLines(sdgui("copy", "cloud:data.bin", f"{tmp_path}/", "--json")), past(0.3, size))
        [job] = unfinished(capsys)
        assert job["bytes_done"] > 0  # the ranges recorded what they had written
        code, seen, err = resume(job_id)
    finally:
        proxy.close()
        rclone_s3.delete_bucket(bucket)
    assert code == 0, err
    [done] = of_type(seen, "file_done")
    assert (done["verified"], done["blake3"]) == ("verified", digest)
    assert done["bytes_resumed"] > 0 and "ignores ranged requests" not in done["note"]
    assert file_blake3(tmp_path / "data.bin") == digest


def test_discard_removes_the_partial(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    moto_s3: S3Server,
    moto_bucket: str,
    tmp_path: Path,
) -> None:
    size = 32 * MiB
    put_with_blake3(moto_s3, moto_bucket, "data.bin", os.urandom(size))
    proxy = slow_volume(capsys, monkeypatch, moto_s3, moto_bucket, rate=8 * 1000 * 1000)
    try:
        job_id = kill_when(JsonLines(sdgui("copy", "cloud:data.bin", f"{tmp_path}/", "--json")), past(0.2, size))
    finally:
        proxy.close()
    assert len(partials(tmp_path)) == 1
    code, out, err = run(capsys, "jobs")
    assert code == 0 and job_id in out and "interrupted" in out and "copy cloud:data.bin" in out, out
    code, out, err = run(capsys, "jobs", "discard", job_id[:6])
    assert (code, err) == (0, "")
    assert out.strip() == f"discarded job {job_id}; removed 1 partial file"
    assert list(tmp_path.iterdir()) == []
    assert unfinished(capsys) == []
    code, _, err = run(capsys, "jobs", "resume", job_id)
    assert code == 1 and err.startswith("sdgui: not-found error")


def test_cancel_removes_the_partial_but_the_job_can_resume(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    moto_s3: S3Server,
    moto_bucket: str,
    tmp_path: Path,
) -> None:
    size = 32 * MiB
    digest = put_with_blake3(moto_s3, moto_bucket, "data.bin", os.urandom(size))
    proxy = slow_volume(capsys, monkeypatch, moto_s3, moto_bucket, rate=8 * 1000 * 1000)
    try:
        process = sdgui("copy", "cloud:data.bin", f"{tmp_path}/")
        deadline = time.monotonic() + SUBPROCESS_TIMEOUT
        while not any(p.stat().st_size for p in tmp_path.glob(".*.part")) and time.monotonic() < deadline:
            time.sleep(0.05)  # bytes are arriving
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=SUBPROCESS_TIMEOUT)
        assert process.returncode == 130, err
        assert list(tmp_path.iterdir()) == []  # a cancel leaves nothing partial
        [job] = unfinished(capsys)
        assert job["state"] == "cancelled" and f"sdgui jobs resume {job['id']}" in err
        code, seen, err = resume(job["id"])
    finally:
        proxy.close()
    assert code == 0, err
    assert of_type(seen, "file_done")[0]["blake3"] == digest
    assert unfinished(capsys) == []


# -- uploads ----------------------------------------------------------------------------------------------------


def test_killed_upload_does_not_send_finished_files_again(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    moto_s3: S3Server,
    moto_bucket: str,
    tmp_path: Path,
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    small = {f"small{i}.txt": os.urandom(256 * 1024) for i in range(6)}
    for name, body in {**small, "big.bin": os.urandom(48 * MiB)}.items():
        (tree / name).write_bytes(body)
    proxy = slow_volume(capsys, monkeypatch, moto_s3, moto_bucket, rate=8 * 1000 * 1000)
    try:
        lines = JsonLines(sdgui("copy", str(tree), "cloud:up/", "--json"))
        smalls_and_two_parts = 6 * 256 * 1024 + 16 * MiB

        def mid_upload(event: dict[str, Any]) -> bool:
            if event["type"] != "progress" or len(of_type(lines.seen, "file_done")) < len(small):
                return False
            return bool(event["bytes_done"] >= smalls_and_two_parts)  # parts of big.bin are on the server

        job_id = kill_when(lines, mid_upload)
    finally:
        proxy.close()
    s3 = moto_s3.client()
    listed = s3.list_objects_v2(Bucket=moto_bucket, Prefix="up/")["Contents"]
    stamps = {obj["Key"]: obj["LastModified"] for obj in listed}
    assert sorted(stamps) == sorted(f"up/tree/{name}" for name in small)  # big.bin was still on its way
    with contextlib.closing(sqlite3.connect(data_dir() / "journal.sqlite3")) as db:
        [(name, token)] = db.execute("SELECT name, token FROM resume_tokens WHERE job_id = ?", (job_id,)).fetchall()
    assert name.startswith(str(tree / "big.bin")) and json.loads(token)["upload_id"]  # its multipart upload is open
    time.sleep(1.1)  # LastModified has a resolution of one second

    register_volume(moto_s3, moto_bucket)  # the same volume, now without the slow link
    code, seen, err = resume(job_id)
    assert code == 0, err
    skipped = of_type(seen, "file_skipped")
    assert sorted(e["source"] for e in skipped) == sorted(str(tree / name) for name in small)
    assert {e["reason"] for e in skipped} == {"copied-before"}
    [big_done] = of_type(seen, "file_done")
    assert big_done["source"] == str(tree / "big.bin")
    # The parts the killed run had sent are proved against the local bytes and kept, not sent again.
    assert big_done["bytes_resumed"] >= 16 * MiB
    assert seen[-1]["bytes_transferred"] == 48 * MiB - big_done["bytes_resumed"] <= 32 * MiB
    listed = s3.list_objects_v2(Bucket=moto_bucket, Prefix="up/")["Contents"]
    assert {obj["Key"]: obj["LastModified"] for obj in listed if obj["Key"] in stamps} == stamps
    assert len(listed) == len(small) + 1
    assert moto_s3.open_multipart_uploads(moto_bucket) == []  # the killed run's upload was carried on, not orphaned


# -- a full disk ------------------------------------------------------------------------------------------------


def run_journaled(journal: Journal, sources: list[str], destination: str, job_id: str) -> list[JobEvent]:
    action = CopyAction([SdPath.parse(s) for s in sources], SdPath.parse(destination))
    settings = TransferSettings(file_concurrency=1)  # one file after the other: the disk fills at a known file
    backends = BackendCache(VolumeRegistry(), settings=settings)
    seen: list[JobEvent] = []
    try:
        FileCopyJob(action, backends, job_id=job_id, journal=journal).run(seen.append)
    finally:
        backends.close()
    return seen


@pytest.mark.parametrize("checked_first", [True, False], ids=["free-space-check", "mid-write"])
def test_full_disk_keeps_complete_files_and_the_journal_right(
    tiny_disk: Path,
    moto_s3: S3Server,
    moto_bucket: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    checked_first: bool,
) -> None:
    if not checked_first:  # the space check cannot see it coming: the write itself hits ENOSPC
        monkeypatch.setattr(LocalBackend, "free_space", lambda self, key: None)
    register_volume(moto_s3, moto_bucket)
    bodies = {"a.bin": os.urandom(MiB), "b.bin": os.urandom(MiB), "c.bin": os.urandom(3 * MiB)}
    for name, body in bodies.items():
        put_with_blake3(moto_s3, moto_bucket, f"d/{name}", body)

    with Journal(tmp_path / "journal.sqlite3") as journal:
        seen = run_journaled(journal, ["cloud:d/"], f"{tiny_disk}/", "full")
        assert seen[-1].type == "job_failed" and seen[-1].error == "disk-full"  # type: ignore[attr-defined]
        files = {f.source: f for f in journal.files("full")}
        assert {s: (f.state, f.error) for s, f in files.items()} == {
            "cloud:d/a.bin": ("done", None),
            "cloud:d/b.bin": ("done", None),
            "cloud:d/c.bin": ("failed", "disk-full"),
        }
        assert files["cloud:d/a.bin"].blake3 == blake3(bodies["a.bin"]).hexdigest()
        assert all(f.temp_path is None for f in files.values())
        assert sorted(os.listdir(tiny_disk / "d")) == ["a.bin", "b.bin"]  # complete files kept, no partial
        for name in ("a.bin", "b.bin"):
            assert (tiny_disk / "d" / name).read_bytes() == bodies[name]
        [job] = journal.unfinished_jobs()
        assert (job.state, job.files_done, job.files_failed, job.files_total) == ("failed", 2, 1, 3)

        # With room made, the job carries on: the two complete files are checked, not copied again.
        subprocess.run(["mount", "-o", "remount,size=8m", str(tiny_disk)], check=True)
        seen = run_journaled(journal, ["cloud:d/"], f"{tiny_disk}/", "full")
        assert seen[-1].type == "job_finished"
        assert sorted(e.source for e in seen if e.type == "file_skipped") == ["cloud:d/a.bin", "cloud:d/b.bin"]  # type: ignore[attr-defined]
        assert [e.source for e in seen if e.type == "file_done"] == ["cloud:d/c.bin"]  # type: ignore[attr-defined]
        assert (tiny_disk / "d" / "c.bin").read_bytes() == bodies["c.bin"]
        assert journal.unfinished_jobs() == []


def test_done_is_proved_by_blake3_not_by_size(tmp_path: Path) -> None:
    """A destination the journal says is done but whose bytes changed since is not skipped: the conflict policy
    (here: fail) applies to it again."""
    src, out = tmp_path / "src", tmp_path / "out"
    (out / "src").mkdir(parents=True)
    src.mkdir()
    for name in ("a.txt", "b.txt"):
        (src / name).write_bytes(b"original")
    (out / "src" / "a.txt").write_bytes(b"original")
    (out / "src" / "b.txt").write_bytes(b"ORIGINAL")  # same size, edited since
    action = CopyAction([SdPath.parse(f"{src}/")], SdPath.parse(f"{out}/"))
    with Journal(tmp_path / "journal.sqlite3") as journal:
        record = journal.begin("j", action)
        planned = [(str(src / name), str(out / "src" / name).lstrip("/"), 8) for name in ("a.txt", "b.txt")]
        for file in record.files(planned):
            file.done(8, blake3(b"original").hexdigest())
        record.end("failed")

        seen = run_journaled(journal, [f"{src}/"], f"{out}/", "j")
        assert [(e.source, e.reason) for e in seen if e.type == "file_skipped"] == [  # type: ignore[attr-defined]
            (str(src / "a.txt"), "copied-before")
        ]
        [failed] = [e for e in seen if e.type == "file_failed"]
        assert (failed.source, failed.error) == (str(src / "b.txt"), "conflict")  # type: ignore[attr-defined]
        assert (out / "src" / "b.txt").read_bytes() == b"ORIGINAL"
        assert {f.source: f.state for f in journal.files("j")} == {
            str(src / "a.txt"): "done",
            str(src / "b.txt"): "failed",
        }
