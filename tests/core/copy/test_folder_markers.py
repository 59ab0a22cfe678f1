"""A cloud folder made by New folder (F7) or an S3 console has a zero-byte ``name/`` marker, which the recursive
listing returns too: copying such a folder keeps it, and moving it leaves no marker behind under the old name."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdgui.core.copy.events import JobFinished
from tests.copying import add_volume, run_copy
from tests.servers import S3Server

pytestmark = pytest.mark.timeout(60)

OBJECTS = {"old/": b"", "old/a.txt": b"a", "old/empty/": b"", "old/sub/b.txt": b"b"}


def _keys(server: S3Server, bucket: str) -> list[str]:
    return sorted(obj["Key"] for obj in server.client().list_objects_v2(Bucket=bucket).get("Contents", []))


@pytest.fixture(params=["moto_s3", "seaweed_s3"], ids=["moto", "seaweedfs"])
def server(request: pytest.FixtureRequest) -> S3Server:
    """The servers that keep a marker as an object (rclone serve s3 keeps it as a directory)."""
    found: S3Server = request.getfixturevalue(request.param)
    found.ensure_running()
    return found


@pytest.fixture
def marked(server: S3Server) -> str:
    bucket = server.new_bucket("markers")
    add_volume(server, bucket, "cloud")
    for key, data in OBJECTS.items():
        server.client().put_object(Bucket=bucket, Key=key, Body=data)
    return bucket


def test_a_folder_with_its_own_marker_is_copied_whole(server: S3Server, marked: str, tmp_path: Path) -> None:
    run = run_copy(["cloud:old/"], f"{tmp_path}/")
    assert isinstance(run.final, JobFinished), run.final
    assert (tmp_path / "old/a.txt").read_bytes() == b"a" and (tmp_path / "old/sub/b.txt").read_bytes() == b"b"
    assert (tmp_path / "old/empty").is_dir()
    assert _keys(server, marked) == sorted(OBJECTS)  # a copy leaves the source as it was


def test_a_moved_folder_leaves_no_marker_behind(server: S3Server, marked: str, tmp_path: Path) -> None:
    run = run_copy(["cloud:old/"], f"{tmp_path}/", delete_after_copy=True)
    assert isinstance(run.final, JobFinished), run.final
    assert (tmp_path / "old/sub/b.txt").read_bytes() == b"b" and (tmp_path / "old/empty").is_dir()
    assert _keys(server, marked) == []


def test_a_folder_moved_within_the_volume_keeps_its_markers_under_the_new_name(server: S3Server, marked: str) -> None:
    run = run_copy(["cloud:old/"], "cloud:new", delete_after_copy=True)
    assert isinstance(run.final, JobFinished), run.final
    assert _keys(server, marked) == sorted(key.replace("old/", "new/", 1) for key in OBJECTS)
