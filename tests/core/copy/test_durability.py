"""Small downloads are made durable in batches (one filesystem sync per batch, not two fsyncs per file), and all of
them before the job says it finished."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sdgui.core.backends import atomic_file
from sdgui.core.copy.events import JobEvent
from tests.copying import add_volume, make_job
from tests.servers import S3Server

COUNT = 300  # more than one batch (atomic_file.FLUSH_FILES)


def test_small_downloads_sync_in_batches_and_all_before_the_job_ends(
    seaweed_s3: S3Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seaweed_s3.ensure_running()
    bucket = seaweed_s3.new_bucket()
    add_volume(seaweed_s3, bucket)
    client = seaweed_s3.client()
    bodies = {f"small/f{i:03d}.bin": os.urandom(1000 + i) for i in range(COUNT)}
    for key, body in bodies.items():
        client.put_object(Bucket=bucket, Key=key, Body=body)

    fsyncs: list[int] = []
    syncs: list[tuple[int, int]] = []  # (files renamed into place so far, when a filesystem sync ran)
    real_fsync, real_syncfs = os.fsync, atomic_file._syncfs
    monkeypatch.setattr(os, "fsync", lambda fd: (fsyncs.append(fd), real_fsync(fd))[1])
    out = tmp_path / "out"

    def counting_syncfs(directory: Path) -> bool:
        syncs.append((sum(1 for _ in out.rglob("f*.bin")), len(seen)))
        return real_syncfs(directory)

    monkeypatch.setattr(atomic_file, "_syncfs", counting_syncfs)
    seen: list[JobEvent] = []
    final = make_job(["cloud:small/"], f"{out}/").run(seen.append)

    assert final.type == "job_finished", final
    for key, body in bodies.items():
        assert (out / key).read_bytes() == body
    assert len(fsyncs) < COUNT // 10, "small files were fsynced one by one"
    if atomic_file._LIBC is not None and getattr(atomic_file._LIBC, "syncfs", None) is not None:
        assert len(syncs) >= 2  # a full batch on the way, and the rest at the end
        files_at_last_sync, events_before_last_sync = syncs[-1]
        assert files_at_last_sync == COUNT  # every file was on the disk's books before...
        assert all(e.type != "job_finished" for e in seen[:events_before_last_sync])  # ...the job said done
    seaweed_s3.delete_bucket(bucket)
