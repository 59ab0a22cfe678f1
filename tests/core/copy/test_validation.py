"""CopyAction validation, path safety and user-facing errors against real servers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sdgui.core import errors
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.action import CopyAction
from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeRegistry
from tests.copying import add_volume, run_copy
from tests.servers import S3Server


def _validate(sources: list[str], destination: str) -> None:
    action = CopyAction([SdPath.parse(s) for s in sources], SdPath.parse(destination))
    action.validate(BackendCache(VolumeRegistry()))


def test_missing_local_source(tmp_path: Path) -> None:
    with pytest.raises(errors.NotFoundError, match="does-not-exist"):
        _validate([f"{tmp_path}/does-not-exist"], f"{tmp_path}/out/")


def test_missing_cloud_source(moto_s3: S3Server) -> None:
    add_volume(moto_s3, moto_s3.new_bucket())
    with pytest.raises(errors.NotFoundError, match="cloud:nope"):
        _validate(["cloud:nope"], "/tmp/")


def test_unknown_destination_volume(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"a")
    with pytest.raises(errors.NotFoundError, match="nowhere"):
        _validate([str(tmp_path / "a")], "nowhere:x")


def test_directory_into_itself(tmp_path: Path) -> None:
    (tmp_path / "d/sub").mkdir(parents=True)
    with pytest.raises(errors.InvalidPathError, match="into itself"):
        _validate([f"{tmp_path}/d/"], f"{tmp_path}/d/sub/")


def test_file_onto_itself(tmp_path: Path) -> None:
    (tmp_path / "f").write_bytes(b"f")
    with pytest.raises(errors.InvalidPathError, match="onto itself"):
        _validate([f"{tmp_path}/f"], f"{tmp_path}/f")


def test_read_only_destination(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    (tmp_path / "f").write_bytes(b"f")
    (tmp_path / "ro").mkdir(mode=0o500)
    with pytest.raises(errors.PermissionDeniedError):
        _validate([f"{tmp_path}/f"], f"{tmp_path}/ro/")


def test_unsafe_keys_are_refused_and_others_copied(moto_s3: S3Server, tmp_path: Path) -> None:
    bucket = moto_s3.new_bucket()
    add_volume(moto_s3, bucket)
    client = moto_s3.client()
    client.put_object(Bucket=bucket, Key="p/ok.txt", Body=b"ok")
    client.put_object(Bucket=bucket, Key="p/a\\..\\..\\win.txt", Body=b"evil")
    target = tmp_path / "deep/target"
    run = run_copy(["cloud:p/"], f"{target}/")
    assert run.final.type == "job_failed"
    assert [e.error for e in run.of("file_failed")] == ["invalid-path"]  # type: ignore[attr-defined]
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file())
    assert written == ["deep/target/p/ok.txt"]


def test_dot_dot_keys_write_nothing_outside(moto_s3: S3Server, tmp_path: Path) -> None:
    # obstore cannot list a ".." key; the S3 control plane lists on, and that file fails, naming the object.
    bucket = moto_s3.new_bucket()
    add_volume(moto_s3, bucket)
    moto_s3.client().put_object(Bucket=bucket, Key="p/../../escaped.txt", Body=b"evil")
    run = run_copy(["cloud:p/"], f"{tmp_path}/deep/target/")
    assert run.final.type == "job_failed"
    assert run.final.error == "invalid-path"  # type: ignore[attr-defined]
    assert "cloud" in run.final.message  # type: ignore[attr-defined]
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_wrong_secret_is_a_credentials_error(rclone_s3: S3Server, tmp_path: Path) -> None:
    # moto accepts any secret; rclone checks signatures like a real service.
    add_volume(rclone_s3, rclone_s3.new_bucket(), secret="definitely-wrong-secret")
    (tmp_path / "f").write_bytes(b"f")
    run = run_copy([str(tmp_path / "f")], "cloud:f")
    assert run.final.type == "job_failed"
    kinds = {e.error for e in run.of("file_failed")} | {run.final.error}  # type: ignore[attr-defined]
    assert "credentials" in kinds
    assert "definitely-wrong-secret" not in str([e.to_dict() for e in run.events])


def test_closed_port_is_a_network_error(moto_s3: S3Server, closed_port_endpoint: str, tmp_path: Path) -> None:
    add_volume(moto_s3, "anything", endpoint=closed_port_endpoint)
    (tmp_path / "f").write_bytes(b"f")
    run = run_copy([str(tmp_path / "f")], "cloud:f")
    assert run.final.type == "job_failed"
    assert run.final.error == "network"  # type: ignore[attr-defined]
    assert "cloud" in run.final.message  # type: ignore[attr-defined]


def test_missing_bucket_is_not_found(moto_s3: S3Server, tmp_path: Path) -> None:
    add_volume(moto_s3, "no-such-bucket-here")
    run = run_copy(["cloud:x"], f"{tmp_path}/")
    assert run.final.type == "job_failed"
    assert run.final.error == "not-found"  # type: ignore[attr-defined]


def test_a_file_where_a_folder_must_be_is_named(tmp_path: Path) -> None:
    """Copying into ``notes.txt/sub/`` when notes.txt is a file: the message says what is in the way, not that
    the destination 'already exists'; nothing is written."""
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "notes.txt").write_text("a file")
    run = run_copy([str(tmp_path / "a.txt")], str(tmp_path / "notes.txt" / "sub") + "/")
    [failed] = run.of("file_failed")
    assert failed.error == "invalid-path"  # type: ignore[attr-defined]
    assert f"{tmp_path / 'notes.txt'} is a file, not a folder" in failed.message  # type: ignore[attr-defined]
    assert "exists" not in failed.message  # type: ignore[attr-defined]
    assert (tmp_path / "notes.txt").read_text() == "a file"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.txt", "notes.txt"]
