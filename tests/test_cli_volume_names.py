"""Volume names that contain secret-like words are names, not fields: they add, list and copy like any other."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.servers import S3Server
from tests.test_cli import add_volume, events, get, put, run


@pytest.mark.parametrize("name", ["team-secrets", "api-tokens"])
def test_secretish_volume_name_adds_lists_and_copies(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    rclone_s3: S3Server,
    tmp_path: Path,
    name: str,
) -> None:
    bucket = rclone_s3.new_bucket()
    add_volume(capsys, monkeypatch, rclone_s3, bucket, name=name)
    code, out, err = run(capsys, "volume", "list", "--json")
    assert (code, err) == (0, "")
    assert [volume["name"] for volume in events(out)] == [name]

    (tmp_path / "up.txt").write_bytes(b"up and away\n")
    code, _, err = run(capsys, "copy", str(tmp_path / "up.txt"), f"{name}:in/up.txt")
    assert (code, err) == (0, "")
    assert get(rclone_s3, bucket, "in/up.txt") == b"up and away\n"
    put(rclone_s3, bucket, "down.txt", b"down here\n")
    code, _, err = run(capsys, "copy", f"{name}:down.txt", str(tmp_path / "down.txt"))
    assert (code, err) == (0, "")
    assert (tmp_path / "down.txt").read_bytes() == b"down here\n"
    rclone_s3.delete_bucket(bucket)


def test_a_secret_in_a_field_of_the_file_is_still_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "volume", "add", "team-secrets", "--kind", "local", "--root", "/srv")[0] == 0
    volumes_file = Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml"
    volumes_file.write_text(volumes_file.read_text() + 'secret_access_key = "hunter2hunter2"\n')
    code, _, err = run(capsys, "volume", "list")
    assert code == 1 and "looks like a secret" in err and "hunter2" not in err
