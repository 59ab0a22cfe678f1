"""The job journal: file states, batched progress, WAL, locks, and a reopen after the writer was killed."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdgui.core import errors
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.journal import (
    JOURNAL_FILE,
    DownloadState,
    Journal,
)
from sdgui.core.paths import SdPath
from sdgui.core.volumes import data_dir

MiB = 1024 * 1024


def make_action(*sources: str, destination: str = "cloud:backup/") -> CopyAction:
    return CopyAction(
        [SdPath.parse(s) for s in sources or ("/data/photos/",)],
        SdPath.parse(destination),
        CopyOptions(on_conflict="rename", verify="readback"),
    )


@pytest.fixture
def journal(tmp_path: Path) -> Iterator[Journal]:
    with Journal(tmp_path / JOURNAL_FILE) as opened:
        yield opened


def test_default_location_is_the_data_dir() -> None:
    with Journal() as journal:
        assert journal.path == data_dir() / "journal.sqlite3"
        assert journal.path.exists()


def test_action_round_trips_through_json() -> None:
    action = make_action("/data/a.txt", "cloud:dir/", destination="other:x/")
    assert CopyAction.from_dict(action.to_dict()) == action
    assert CopyAction.from_dict({**action.to_dict(), "options": {"verify": "off", "unknown": 1}}).options == (
        CopyOptions(verify="off")
    )


def test_file_states_and_job_listing(journal: Journal) -> None:
    record = journal.begin("job1", make_action())
    a, b, c, d = record.files([("/data/a", "backup/a", 10), ("/data/b", "backup/b", 20), ("/data/c", "c", 30),
                               ("/data/d", "d", 40)])  # fmt: skip
    assert [f.state for f in (a, b, c, d)] == ["pending"] * 4
    a.start("backup/a")
    a.done(10, "h" * 64)
    b.start("backup/b (1)")
    b.failed("disk-full", "disk-full error at /x: no space")
    c.start("c")
    c.begin_download(DownloadState("etag", 30, 8, {0: 8, 1: 3}, "/tmp/.c.part"))
    d.start("d")
    d.reset()

    [info] = journal.unfinished_jobs()
    assert (info.id, info.state, info.summary) == ("job1", "running", "copy /data/photos/ → cloud:backup/")
    assert (info.files_total, info.files_done, info.files_failed) == (4, 1, 1)
    assert (info.bytes_total, info.bytes_done) == (100, 10 + 11)
    assert CopyAction.from_dict(info.action) == make_action()
    files = {f.source: f for f in journal.files("job1")}
    assert (files["/data/a"].state, files["/data/a"].blake3) == ("done", "h" * 64)
    assert (files["/data/b"].state, files["/data/b"].error, files["/data/b"].dst_key) == (
        "failed",
        "disk-full",
        "backup/b (1)",
    )
    assert (files["/data/c"].state, files["/data/c"].temp_path) == ("active", "/tmp/.c.part")
    assert files["/data/d"].state == "pending"

    record.end("failed")
    assert journal.job("job1").state == "failed"
    # Taken up again: the same records come back, a new file is added after the others.
    again = journal.begin("job1", make_action())
    records = again.files([("/data/c", "c", 30), ("/data/a", "backup/a", 10), ("/data/e", "e", 5)])
    assert [(r.source, r.file_id, r.state) for r in records] == [
        ("/data/c", 2, "active"),
        ("/data/a", 0, "done"),
        ("/data/e", 4, "pending"),
    ]
    assert records[0].download == DownloadState("etag", 30, 8, {0: 8, 1: 3}, "/tmp/.c.part")
    assert records[0].tag == "job1-2"
    again.end("finished")
    assert journal.unfinished_jobs() == []
    assert journal.job("job1").state == "finished"
    assert journal.files("job1") == []  # a finished job keeps its summary only


def test_download_state_stores_parts_compactly() -> None:
    done = {i: 16 for i in range(1000)}
    state = DownloadState("e", 1005 * 16, 16, {**done, 1000: 5, 1002: 3}, None)
    text = state.to_json()
    assert len(text) < 200
    assert DownloadState.from_json(text, "/p") == DownloadState("e", state.size, 16, state.confirmed, "/p")
    assert DownloadState.from_json("{not json", None) is None


def test_progress_is_batched(tmp_path: Path) -> None:
    with Journal(tmp_path / JOURNAL_FILE, flush_interval=0.3) as journal:
        [record] = journal.begin("job", make_action()).files([("cloud:big", "big", 1000 * MiB)])
        before = journal.transactions
        started = time.monotonic()
        for i in range(1, 2001):
            record.download_progress(DownloadState("e", 1000 * MiB, MiB, {j: MiB for j in range(i // 20)}, None))
        elapsed = time.monotonic() - started
        time.sleep(0.8)
        assert 1 <= journal.transactions - before <= 3 + elapsed / 0.3  # 2000 updates, a few writes
        assert journal.files("job")[0].bytes_confirmed == 100 * MiB
        # A state change is written promptly, without waiting for the progress interval.
        writes = journal.transactions
        record.done(1000 * MiB, "h")
        deadline = time.monotonic() + 2
        while journal.transactions == writes and time.monotonic() < deadline:
            time.sleep(0.01)
        assert time.monotonic() < deadline
        reader = sqlite3.connect(journal.path)
        assert reader.execute("SELECT state FROM files").fetchall() == [("done",)]
        reader.close()


def test_wal_lets_readers_in_while_a_job_writes(journal: Journal) -> None:
    reader = sqlite3.connect(journal.path)
    try:
        assert reader.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        [record] = journal.begin("job", make_action()).files([("/a", "a", 1)])
        reader.execute("BEGIN")
        assert reader.execute("SELECT state FROM files").fetchall() == [("pending",)]
        record.done(1, "h")
        journal.flush()  # a writer is not blocked by an open read transaction
        assert reader.execute("SELECT state FROM files").fetchall() == [("pending",)]  # its snapshot
        reader.execute("COMMIT")
        assert reader.execute("SELECT state FROM files").fetchall() == [("done",)]
    finally:
        reader.close()


def test_a_running_job_is_locked(journal: Journal, tmp_path: Path) -> None:
    record = journal.begin("job", make_action())
    with pytest.raises(errors.ConflictError, match="running in another"):
        journal.begin("job", make_action())
    with Journal(journal.path) as other:  # another connection (another process would see the same)
        assert other.job("job").state == "running"
        with pytest.raises(errors.ConflictError, match="running"):
            other.discard("job")
    record.end("cancelled")
    assert journal.job("job").state == "cancelled"
    assert [job.id for job in journal.unfinished_jobs()] == ["job"]


def test_job_lookup_by_prefix(journal: Journal) -> None:
    for job_id in ("abc123", "abd456"):
        journal.begin(job_id, make_action()).end("failed")
    assert journal.job("abc").id == "abc123"
    assert journal.job("abd456").id == "abd456"
    with pytest.raises(errors.NotFoundError, match="2 jobs start with"):
        journal.job("ab")
    with pytest.raises(errors.NotFoundError, match="no such job"):
        journal.job("zzz")


def test_discard_removes_partials(journal: Journal, tmp_path: Path) -> None:
    partial = tmp_path / ".big.bin.sdgui-job-0.part"
    partial.write_bytes(b"x" * 100)
    [record] = journal.begin("job", make_action()).files([("cloud:big.bin", "big.bin", 1000)])
    record.start("big.bin")
    record.begin_download(DownloadState("e", 1000, 10, {0: 10}, str(partial)))
    record.job.end("failed")
    assert journal.discard("job") == [partial]
    assert not partial.exists()
    assert journal.unfinished_jobs() == []
    with pytest.raises(errors.NotFoundError):
        journal.job("job")


def test_resume_tokens(journal: Journal) -> None:
    record = journal.begin("job", make_action())
    assert record.get("a -> b") is None
    before = journal.transactions
    record.put("a -> b", {"upload_id": "u1", "parts": {}})
    assert journal.transactions == before + 1  # a new upload id is on disk before the first part goes
    record.put("a -> b", {"upload_id": "u1", "parts": {"1": "etag"}})
    assert journal.transactions == before + 1  # later parts are batched
    assert record.get("a -> b") == {"upload_id": "u1", "parts": {"1": "etag"}}
    journal.flush()
    reader = sqlite3.connect(journal.path)
    assert reader.execute("SELECT name, token FROM resume_tokens").fetchall() == [
        ("a -> b", '{"upload_id": "u1", "parts": {"1": "etag"}}')
    ]
    reader.close()
    record.clear("a -> b")
    assert record.get("a -> b") is None


KILLED_WRITER = """
import os, signal, sys
from pathlib import Path
from sdgui.core.copy.action import CopyAction
from sdgui.core.journal import DownloadState, Journal
from sdgui.core.paths import SdPath

journal = Journal(Path(sys.argv[1]), flush_interval=0.05)
action = CopyAction([SdPath.parse("cloud:big/")], SdPath.parse("/tmp/down/"))
done, partial, pending = journal.begin("killed", action).files(
    [("cloud:big/a", "tmp/down/a", 100), ("cloud:big/b", "tmp/down/b", 1000), ("cloud:big/c", "tmp/down/c", 5)]
)
done.start("tmp/down/a")
done.done(100, "h" * 64)
partial.start("tmp/down/b")
partial.begin_download(DownloadState("etag-b", 1000, 100, {0: 100}, "/tmp/down/.b.sdgui-killed-1.part"))
partial.download_progress(DownloadState("etag-b", 1000, 100, {0: 100, 1: 100, 2: 40}, None))
journal.flush()
partial.download_progress(DownloadState("etag-b", 1000, 100, {i: 100 for i in range(10)}, None))
os.kill(os.getpid(), signal.SIGKILL)  # staged, never written: the journal must not claim those bytes
"""


def test_reopen_after_the_writer_was_killed(tmp_path: Path) -> None:
    path = tmp_path / JOURNAL_FILE
    script = tmp_path / "writer.py"
    script.write_text(textwrap.dedent(KILLED_WRITER))
    result = subprocess.run([sys.executable, str(script), str(path)], capture_output=True, timeout=60, check=False)
    assert result.returncode == -signal.SIGKILL, result.stderr.decode()
    assert (tmp_path / (JOURNAL_FILE + "-wal")).exists()  # the WAL was left for the next opener to recover

    with Journal(path) as journal:
        [info] = journal.unfinished_jobs()
        assert (info.id, info.state) == ("killed", "interrupted")  # "running", but nobody holds its lock
        assert (info.files_total, info.files_done, info.bytes_done) == (3, 1, 100 + 240)
        record = journal.begin("killed", CopyAction.from_dict(info.action))  # the lock died with the process
        a, b, c = record.files([("cloud:big/a", "x", 0), ("cloud:big/b", "x", 0), ("cloud:big/c", "x", 0)])
        assert (a.state, a.blake3, a.dst_key) == ("done", "h" * 64, "tmp/down/a")
        assert b.state == "active"
        assert b.download is not None and b.download.confirmed == {0: 100, 1: 100, 2: 40}
        assert c.state == "pending"
        record.end("cancelled")
    reader = sqlite3.connect(path)
    assert reader.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    reader.close()
