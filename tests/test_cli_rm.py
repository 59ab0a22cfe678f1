"""`sdgui rm` and the DeleteJob under it: local folders (symlinks never followed), an S3 prefix, cancel mid-way."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.events import JobEvent
from sdgui.core.delete import DeleteAction, DeleteCancelled, DeleteJob, DeleteProgress
from sdgui.core.journal import Journal
from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeRegistry
from tests.servers import S3Server
from tests.test_cli import add_volume, events, keys, of_type, put, run

pytestmark = pytest.mark.timeout(60)


def tree(root: Path, count: int) -> dict[Path, bytes]:
    files = {root / f"d{i % 3}" / f"f{i:03d}.txt": f"file {i}".encode() for i in range(count)}
    for path, data in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def test_rm_deletes_a_local_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    code, out, err = run(capsys, "rm", str(tmp_path / "a.txt"))
    assert (code, out, err) == (0, "deleted 1 file\n", "")
    assert sorted(os.listdir(tmp_path)) == ["b.txt"]


def test_rm_of_a_folder_needs_recursive(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    tree(tmp_path / "dir", 3)
    code, out, err = run(capsys, "rm", str(tmp_path / "dir"))
    assert code == 1 and out == ""
    assert err == f"sdgui: invalid-path error at {tmp_path}/dir: is a folder; delete it with its contents (-r)\n"
    assert len(list((tmp_path / "dir").rglob("*.txt"))) == 3


def test_rm_recursive_deletes_a_local_tree_without_following_symlinks_out(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "precious.txt").write_text("keep me")
    target = tmp_path / "dir"
    tree(target, 30)
    (target / "d0" / "link-to-outside").symlink_to(outside, target_is_directory=True)
    (target / "file-link").symlink_to(outside / "precious.txt")
    (target / "empty").mkdir()

    code, out, err = run(capsys, "rm", "-r", str(target))
    assert (code, err) == (0, "")
    assert out == "deleted 32 files\n"  # 30 files and 2 symlinks; directories are not counted
    assert not target.exists()
    assert (outside / "precious.txt").read_text() == "keep me"


def test_rm_of_a_missing_file_fails(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, err = run(capsys, "rm", str(tmp_path / "nope.txt"))
    assert code == 1 and out == ""
    assert err.startswith("sdgui: not-found error at ") and err.count("\n") == 1


def test_rm_recursive_deletes_an_s3_prefix_and_reports_json(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, bucket: str
) -> None:
    add_volume(capsys, monkeypatch, s3_server, bucket)
    for key in ("keep.txt", "photos/a.jpg", "photos/b.jpg", "photos/2024/c.jpg", "photos-old/d.jpg"):
        put(s3_server, bucket, key, key.encode())
    if s3_server.name != "rclone":  # rclone serve s3 keeps folders as directories: no marker objects to put
        for marker in ("photos/", "photos/empty/", "photos/2024/"):  # folder markers at every depth go too
            put(s3_server, bucket, marker, b"")

    code, out, err = run(capsys, "rm", "-r", "--json", "cloud:photos/")
    assert code == 0, err
    parsed = events(out)
    assert parsed[0] == {"type": "delete_started", "job_id": parsed[0]["job_id"], "targets": ["cloud:photos/"],
                         "recursive": True}  # fmt: skip
    assert of_type(parsed, "delete_finished")[0]["deleted"] == 3
    assert parsed[-1]["type"] == "delete_finished"
    assert keys(s3_server, bucket) == ["keep.txt", "photos-old/d.jpg"]


def test_rm_refuses_a_whole_volume(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server
) -> None:
    bucket = moto_s3.new_bucket()
    add_volume(capsys, monkeypatch, moto_s3, bucket)
    put(moto_s3, bucket, "a.txt", b"a")
    code, _, err = run(capsys, "rm", "-r", "cloud:")
    assert code == 1 and "refusing to delete a whole volume" in err
    assert keys(moto_s3, bucket) == ["a.txt"]


def test_cancel_mid_delete_leaves_the_rest_intact(tmp_path: Path) -> None:
    files = tree(tmp_path / "dir", 60)
    job = DeleteJob(DeleteAction([SdPath(None, str(tmp_path / "dir"), True)], recursive=True),
                    BackendCache(VolumeRegistry()))  # fmt: skip
    seen: list[JobEvent] = []

    def sink(event: JobEvent) -> None:
        seen.append(event)
        if isinstance(event, DeleteProgress):
            job.cancel()  # the user presses Cancel as the first object goes

    final = job.run(sink)
    assert isinstance(final, DeleteCancelled) and final.deleted == 1
    left = {path: path.read_bytes() for path in (tmp_path / "dir").rglob("*.txt")}
    assert len(left) == 59
    assert all(files[path] == data for path, data in left.items())


def test_an_interrupted_delete_is_journaled_and_resumes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    """A delete cancelled after its first object stays in the journal; `sdgui jobs` lists it and `jobs resume`
    deletes the rest (a file target the first run already removed is no error the second time)."""
    tree(tmp_path / "dir", 30)
    (tmp_path / "single.txt").write_text("x")
    action = DeleteAction([SdPath(None, str(tmp_path / "single.txt")), SdPath(None, str(tmp_path / "dir"), True)], True)
    with Journal() as journal:
        job = DeleteJob(action, BackendCache(VolumeRegistry()), journal=journal)

        def sink(event: JobEvent) -> None:
            if isinstance(event, DeleteProgress) and event.deleted >= 2:
                job.cancel()  # single.txt and one file of dir are gone

        assert isinstance(job.run(sink), DeleteCancelled)
    code, out, _ = run(capsys, "jobs")
    assert code == 0 and job.job_id in out and "delete " in out and "cancelled" in out
    assert not (tmp_path / "single.txt").exists() and len(list((tmp_path / "dir").rglob("*.txt"))) == 29

    code, out, err = run(capsys, "jobs", "resume", job.job_id)
    assert (code, err) == (0, ""), err
    assert out == "deleted 29 files\n"
    assert not (tmp_path / "dir").exists()
    code, out, _ = run(capsys, "jobs")
    assert job.job_id not in out
