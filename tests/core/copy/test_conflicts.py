"""Conflict policies against a real server and the local disk."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdgui.core.copy.conflicts import numbered_name
from tests.copying import add_volume, read_object, run_copy
from tests.servers import S3Server


@pytest.mark.parametrize(
    ("key", "n", "expected"),
    [
        ("a.txt", 1, "a (1).txt"),
        ("dir/a.tar.gz", 2, "dir/a.tar (2).gz"),
        ("dir/.bashrc", 1, "dir/.bashrc (1)"),
        ("README", 3, "README (3)"),
    ],
)
def test_numbered_name(key: str, n: int, expected: str) -> None:
    assert numbered_name(key, n) == expected


@pytest.fixture
def existing(moto_s3: S3Server, tmp_path: Path) -> tuple[S3Server, str, Path]:
    bucket = moto_s3.new_bucket()
    add_volume(moto_s3, bucket)
    moto_s3.client().put_object(Bucket=bucket, Key="d/a.txt", Body=b"old")
    moto_s3.client().put_object(Bucket=bucket, Key="d/a (1).txt", Body=b"older")
    (tmp_path / "a.txt").write_bytes(b"new")
    return moto_s3, bucket, tmp_path / "a.txt"


def test_skip_keeps_the_existing_object(existing: tuple[S3Server, str, Path]) -> None:
    server, bucket, source = existing
    run = run_copy([str(source)], "cloud:d/", on_conflict="skip")
    assert run.final.type == "job_finished"
    assert len(run.of("file_skipped")) == 1
    assert read_object(server, bucket, "d/a.txt") == b"old"


def test_overwrite_replaces(existing: tuple[S3Server, str, Path]) -> None:
    server, bucket, source = existing
    assert run_copy([str(source)], "cloud:d/", on_conflict="overwrite").final.type == "job_finished"
    assert read_object(server, bucket, "d/a.txt") == b"new"


def test_rename_keeps_both(existing: tuple[S3Server, str, Path]) -> None:
    server, bucket, source = existing
    run = run_copy([str(source)], "cloud:d/", on_conflict="rename")
    assert run.final.type == "job_finished"
    assert run.of("file_done")[0].destination == "cloud:d/a (2).txt"  # type: ignore[attr-defined]
    assert read_object(server, bucket, "d/a (2).txt") == b"new"
    assert read_object(server, bucket, "d/a.txt") == b"old"


def test_fail_reports_a_conflict(existing: tuple[S3Server, str, Path]) -> None:
    server, bucket, source = existing
    run = run_copy([str(source)], "cloud:d/", on_conflict="fail")
    assert run.final.type == "job_failed"
    assert run.of("file_failed")[0].error == "conflict"  # type: ignore[attr-defined]
    assert read_object(server, bucket, "d/a.txt") == b"old"


def test_local_rename(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "dst").mkdir()
    (tmp_path / "src/n.txt").write_bytes(b"new")
    (tmp_path / "dst/n.txt").write_bytes(b"old")
    assert run_copy([f"{tmp_path}/src/n.txt"], f"{tmp_path}/dst/", on_conflict="rename").final.type == "job_finished"
    assert (tmp_path / "dst/n (1).txt").read_bytes() == b"new"
    assert (tmp_path / "dst/n.txt").read_bytes() == b"old"
