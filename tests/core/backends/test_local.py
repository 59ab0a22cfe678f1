"""LocalBackend: atomic writes, paging, and a full disk that loses nothing."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from sdgui.core import errors
from sdgui.core.backends.local import LocalBackend
from tests.copying import add_volume, run_copy
from tests.servers import S3Server


def test_pages_and_recursion(tmp_path: Path) -> None:
    for i in range(25):
        (tmp_path / "d" / f"s{i % 3}").mkdir(parents=True, exist_ok=True)
        (tmp_path / "d" / f"s{i % 3}" / f"f{i}").write_bytes(b"x")
    backend = LocalBackend(tmp_path)
    pages = list(backend.list("d", recursive=True, page_size=10))
    assert [len(p) for p in pages] == [10, 10, 5]
    assert sorted(e.key for e in next(iter(backend.list("d")))) == ["d/s0", "d/s1", "d/s2"]


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    (tmp_path / "keep.txt").write_bytes(b"old")

    def chunks() -> Iterator[bytes]:
        yield b"new"
        raise errors.CancelledError("stop")

    with pytest.raises(errors.CancelledError):
        backend.write("keep.txt", chunks())
    assert (tmp_path / "keep.txt").read_bytes() == b"old"
    assert sorted(os.listdir(tmp_path)) == ["keep.txt"]


def test_paths_cannot_leave_the_root(tmp_path: Path) -> None:
    with pytest.raises(errors.InvalidPathError):
        LocalBackend(tmp_path / "root").path("../outside")


def test_a_root_that_is_a_prefix_of_a_sibling_is_not_left(tmp_path: Path) -> None:
    """``/x/data`` must not reach ``/x/data-old`` through ``..``: the check is on whole components."""
    backend = LocalBackend(tmp_path / "data")
    with pytest.raises(errors.InvalidPathError):
        backend.path("../data-old/secret")
    assert backend.path("a/../b") == tmp_path / "data" / "b"
    assert backend.path("") == tmp_path / "data"


def test_atomic_file_makes_missing_folders_and_names_a_file_in_the_way(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path)
    target = backend.open_atomic("new/deeper/f.bin")
    target.pwrite(b"bytes", 0)
    target.commit()
    assert (tmp_path / "new" / "deeper" / "f.bin").read_bytes() == b"bytes"
    (tmp_path / "plain").write_bytes(b"a file")
    with pytest.raises(errors.InvalidPathError, match="plain is a file, not a folder"):
        backend.open_atomic("plain/sub/f.bin")
    assert (tmp_path / "plain").read_bytes() == b"a file"


def test_full_disk_fails_the_file_and_keeps_complete_ones(tiny_disk: Path, tmp_path: Path) -> None:
    (tiny_disk / "complete.txt").write_bytes(b"keep me")
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(6 * 1024 * 1024))
    run = run_copy([str(src)], f"{tiny_disk}/")
    assert run.final.type == "job_failed"
    failed = run.of("file_failed")[0]
    assert failed.error == "disk-full"  # type: ignore[attr-defined]
    assert str(tiny_disk) in failed.message  # type: ignore[attr-defined]
    assert sorted(os.listdir(tiny_disk)) == ["complete.txt"]
    assert (tiny_disk / "complete.txt").read_bytes() == b"keep me"


def test_download_checks_free_space_first(tiny_disk: Path, moto_s3: S3Server) -> None:
    bucket = moto_s3.new_bucket()
    add_volume(moto_s3, bucket)
    moto_s3.client().put_object(Bucket=bucket, Key="big.bin", Body=os.urandom(5 * 1024 * 1024))
    run = run_copy(["cloud:big.bin"], f"{tiny_disk}/")
    assert run.final.type == "job_failed"
    assert run.final.error == "disk-full"  # type: ignore[attr-defined]
    assert os.listdir(tiny_disk) == []
