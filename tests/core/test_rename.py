"""Renaming in place: one step on a local disk, a verified move job on an object store; a taken name is refused from
a fresh look at the volume, and nothing changes then."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.events import JobFinished
from sdgui.core.copy.job import FileCopyJob
from sdgui.core.paths import SdPath
from sdgui.core.rename import MoveNeeded, Renamed, check_new_name, prepare_rename
from sdgui.core.volumes import VolumeRegistry
from tests.copying import add_volume, read_object
from tests.servers import S3Server

pytestmark = pytest.mark.timeout(60)


def _keys(server: S3Server, bucket: str) -> list[str]:
    pages = server.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
    return sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))


def _local(path: Path, is_dir: bool = False) -> SdPath:
    return SdPath(None, str(path), is_dir)


# -- names ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("a/b", "cannot contain “/”"),
        ("..", "cannot be a name"),
        (".", "cannot be a name"),
        ("old.txt", "the name it has"),
    ],
)
def test_names_that_cannot_be(name: str, why: str) -> None:
    with pytest.raises(errors.InvalidPathError, match=why):
        check_new_name(SdPath("cloud", "dir/old.txt"), name)


def test_the_new_path_stays_in_the_folder_and_keeps_its_kind() -> None:
    assert check_new_name(SdPath("cloud", "dir/old.txt"), "new.txt") == SdPath("cloud", "dir/new.txt")
    assert check_new_name(SdPath("cloud", "dir/sub", True), "other") == SdPath("cloud", "dir/other", True)
    assert check_new_name(SdPath("cloud", "top.txt"), "x") == SdPath("cloud", "x")
    with pytest.raises(errors.InvalidPathError, match="root"):
        check_new_name(SdPath("cloud", "", True), "x")


# -- local ----------------------------------------------------------------------------------------------------


def test_a_local_file_and_folder_are_renamed_in_one_step(tmp_path: Path) -> None:
    (tmp_path / "old.txt").write_bytes(b"bytes")
    (tmp_path / "dir/sub").mkdir(parents=True)
    (tmp_path / "dir/sub/f").write_bytes(b"f")
    backends = BackendCache(VolumeRegistry())

    step = prepare_rename(backends, _local(tmp_path / "old.txt"), "new.txt")
    assert step == Renamed(_local(tmp_path / "old.txt"), _local(tmp_path / "new.txt"))
    assert (tmp_path / "new.txt").read_bytes() == b"bytes" and not (tmp_path / "old.txt").exists()

    assert isinstance(prepare_rename(backends, _local(tmp_path / "dir", True), "moved"), Renamed)
    assert (tmp_path / "moved/sub/f").read_bytes() == b"f" and not (tmp_path / "dir").exists()


@pytest.mark.parametrize("taken", ["file", "empty folder"])
def test_a_local_rename_never_replaces_what_is_there(tmp_path: Path, taken: str) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "old/inside").write_bytes(b"kept")
    if taken == "file":
        (tmp_path / "new").write_bytes(b"other")
    else:
        (tmp_path / "new").mkdir()  # POSIX rename would silently replace an empty folder
    with pytest.raises(errors.ConflictError, match="already exists"):
        prepare_rename(BackendCache(VolumeRegistry()), _local(tmp_path / "old", True), "new")
    assert (tmp_path / "old/inside").read_bytes() == b"kept"
    assert (tmp_path / "new").is_dir() == (taken != "file")


def test_a_source_that_went_away_is_said_so(tmp_path: Path) -> None:
    with pytest.raises(errors.NotFoundError, match="no longer there"):
        prepare_rename(BackendCache(VolumeRegistry()), _local(tmp_path / "gone.txt"), "new.txt")


# -- cloud ----------------------------------------------------------------------------------------------------


@pytest.fixture
def cloud_bucket(moto_s3: S3Server) -> str:
    moto_s3.ensure_running()
    bucket = moto_s3.new_bucket("rename")
    add_volume(moto_s3, bucket, "cloud")
    return bucket


def _run(step: MoveNeeded) -> FileCopyJob:
    job = FileCopyJob(step.action("on"), BackendCache(VolumeRegistry()))
    final = job.run(lambda event: None)
    assert isinstance(final, JobFinished), final
    return job


def test_a_cloud_object_is_moved_to_its_new_key(moto_s3: S3Server, cloud_bucket: str) -> None:
    client = moto_s3.client()
    client.put_object(Bucket=cloud_bucket, Key="dir/old.txt", Body=b"the bytes")
    client.put_object(Bucket=cloud_bucket, Key="dir/other.txt", Body=b"untouched")

    step = prepare_rename(BackendCache(VolumeRegistry()), SdPath("cloud", "dir/old.txt"), "new.txt")
    assert step == MoveNeeded(SdPath("cloud", "dir/old.txt"), SdPath("cloud", "dir/new.txt"), 1)
    assert _keys(moto_s3, cloud_bucket) == ["dir/old.txt", "dir/other.txt"]  # nothing moved before the job
    _run(step)
    assert _keys(moto_s3, cloud_bucket) == ["dir/new.txt", "dir/other.txt"]
    assert read_object(moto_s3, cloud_bucket, "dir/new.txt") == b"the bytes"


def test_a_cloud_folder_is_every_object_under_it(moto_s3: S3Server, cloud_bucket: str) -> None:
    client = moto_s3.client()
    for key in ("old/a.txt", "old/sub/b.txt", "old/sub/c.txt", "old/", "old/empty/", "older.txt"):
        client.put_object(Bucket=cloud_bucket, Key=key, Body=b"" if key.endswith("/") else key.encode())

    step = prepare_rename(BackendCache(VolumeRegistry()), SdPath("cloud", "old", True), "new")
    assert isinstance(step, MoveNeeded) and step.is_dir and step.counted_all
    _run(step)
    keys = _keys(moto_s3, cloud_bucket)
    assert [k for k in keys if k.startswith("old/")] == []  # no object, no folder marker left under the old name
    assert {"new/a.txt", "new/sub/b.txt", "new/sub/c.txt", "new/empty/", "older.txt"} <= set(keys)
    assert read_object(moto_s3, cloud_bucket, "new/sub/b.txt") == b"old/sub/b.txt"


def test_a_big_cloud_folder_is_counted_up_to_a_limit(moto_s3: S3Server, cloud_bucket: str) -> None:
    client = moto_s3.client()
    for n in range(5):
        client.put_object(Bucket=cloud_bucket, Key=f"old/{n}", Body=b"x")
    backends = BackendCache(VolumeRegistry())
    assert prepare_rename(backends, SdPath("cloud", "old", True), "new", count_limit=3) == MoveNeeded(
        SdPath("cloud", "old", True), SdPath("cloud", "new", True), 3, counted_all=False
    )
    assert prepare_rename(backends, SdPath("cloud", "old", True), "new").objects == 5


@pytest.mark.parametrize("taken", ["new.txt", "new.txt/inside"])
def test_a_taken_cloud_name_is_refused_from_a_fresh_look(moto_s3: S3Server, cloud_bucket: str, taken: str) -> None:
    client = moto_s3.client()
    client.put_object(Bucket=cloud_bucket, Key="old.txt", Body=b"old")
    backends = BackendCache(VolumeRegistry())
    backends.get("cloud").stat("old.txt")  # the backend is open before the name is taken behind its back
    client.put_object(Bucket=cloud_bucket, Key=taken, Body=b"theirs")
    with pytest.raises(errors.ConflictError, match="already exists"):
        prepare_rename(backends, SdPath("cloud", "old.txt"), "new.txt")
    assert _keys(moto_s3, cloud_bucket) == sorted(["old.txt", taken])


def test_a_name_taken_while_the_job_waits_fails_the_file_and_keeps_the_source(
    moto_s3: S3Server, cloud_bucket: str
) -> None:
    client = moto_s3.client()
    client.put_object(Bucket=cloud_bucket, Key="old.txt", Body=b"old")
    step = prepare_rename(BackendCache(VolumeRegistry()), SdPath("cloud", "old.txt"), "new.txt")
    assert isinstance(step, MoveNeeded)
    client.put_object(Bucket=cloud_bucket, Key="new.txt", Body=b"theirs")
    job = FileCopyJob(step.action("on"), BackendCache(VolumeRegistry()))
    assert job.run(lambda event: None).type == "job_failed"
    assert read_object(moto_s3, cloud_bucket, "new.txt") == b"theirs"
    assert read_object(moto_s3, cloud_bucket, "old.txt") == b"old"
