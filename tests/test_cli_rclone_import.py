"""`sdgui volume import rclone`: the imported volume copies against a real server; secrets only in the keyring."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.keyrings import MemoryKeyring
from tests.servers import S3Server
from tests.test_cli import events, get, put, run


def write_config(tmp_path: Path, server: S3Server) -> Path:
    path = tmp_path / "rclone.conf"
    path.write_text(
        f"[local-s3]\ntype = s3\nprovider = Other\nendpoint = {server.endpoint}\n"
        f"access_key_id = {server.access_key_id}\nsecret_access_key = {server.secret_access_key}\n\n"
        "[files]\ntype = sftp\nhost = example.com\n"
    )
    return path


def test_import_then_copy_both_ways(
    capsys: pytest.CaptureFixture[str], memory_keyring: MemoryKeyring, rclone_s3: S3Server, tmp_path: Path
) -> None:
    path = write_config(tmp_path, rclone_s3)
    bucket = rclone_s3.new_bucket()
    args = ("volume", "import", "rclone", "--config", str(path), "--bucket", f"local-s3={bucket}")

    code, out, err = run(capsys, *args, "--dry-run")
    assert (code, err) == (0, "")
    assert "would add" in out and "skipped files (sftp): rclone type 'sftp' is not supported" in out
    assert not (Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").exists()
    assert memory_keyring.entries == {}

    code, out, err = run(capsys, *args, "--json")
    assert (code, err) == (0, "")
    rows = {row["remote"]: row for row in events(out)}
    assert rows["local-s3"]["type"] == "imported"
    assert rows["local-s3"]["identity"] == f"access key {rclone_s3.access_key_id} (keyring)"
    assert rows["files"] == {
        "type": "skipped", "remote": "files", "rclone_type": "sftp", "reason": "rclone type 'sftp' is not supported"
    }  # fmt: skip
    assert rclone_s3.secret_access_key not in out
    assert memory_keyring.entries[("sdgui", "local-s3")] == rclone_s3.secret_access_key
    assert rclone_s3.secret_access_key not in (Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").read_text()

    (tmp_path / "up.txt").write_bytes(b"imported and copied\n")
    code, _, err = run(capsys, "copy", str(tmp_path / "up.txt"), "local-s3:up.txt")
    assert (code, err) == (0, "")
    assert get(rclone_s3, bucket, "up.txt") == b"imported and copied\n"
    put(rclone_s3, bucket, "down.txt", b"and back\n")
    code, _, err = run(capsys, "copy", "local-s3:down.txt", str(tmp_path / "down.txt"))
    assert (code, err) == (0, "")
    assert (tmp_path / "down.txt").read_bytes() == b"and back\n"

    code, out, err = run(capsys, *args)  # again: the name is taken now
    assert code == 0
    assert "skipped local-s3 (s3): a volume named local-s3 already exists; it was not overwritten" in out
    rclone_s3.delete_bucket(bucket)


def test_encrypted_config_is_one_error_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "rclone.conf"
    path.write_text("# Encrypted rclone configuration File\n\nRCLONE_ENCRYPT_V0:\nAAAA\n")
    code, out, err = run(capsys, "volume", "import", "rclone", "--config", str(path))
    assert code == 1 and out == ""
    assert err.startswith("sdgui: config error") and "encrypted rclone config" in err and len(err.splitlines()) == 1


def test_rclone_config_variable_is_the_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, rclone_s3: S3Server, tmp_path: Path
) -> None:
    monkeypatch.setenv("RCLONE_CONFIG", str(write_config(tmp_path, rclone_s3)))
    code, out, err = run(capsys, "volume", "import", "rclone", "--dry-run")
    assert (code, err) == (0, "")
    assert "pass --bucket local-s3=BUCKET" in out
    assert f"would import 0 of 2 remote(s) from {tmp_path / 'rclone.conf'}" in out
