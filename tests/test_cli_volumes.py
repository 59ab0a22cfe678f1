"""`sdgui volume`: add, list, remove and test a volume, its secret in the keyring or an environment variable, and the
errors a wrong secret, a closed port or a missing variable give."""

from __future__ import annotations

import io
import os
import sys
import tomllib
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from tests.keyrings import MemoryKeyring
from tests.servers import S3Server
from tests.test_cli import SECRET_ENV, add_volume, events, keys, run


def test_volume_add_list_remove_round_trip(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "very-secret-value-0123456789"
    monkeypatch.setenv(SECRET_ENV, secret)
    code, out, err = run(
        capsys,
        *("volume", "add", "photos", "--kind", "s3", "--bucket", "my-photos", "--region", "eu-west-1"),
        *("--access-key-id", "AKIAEXAMPLE", "--secret-env", SECRET_ENV, "--prefix", "2024"),
    )
    assert (code, err) == (0, "")
    assert SECRET_ENV in out
    assert run(capsys, "volume", "add", "disk", "--kind", "local", "--root", "/srv/data")[0] == 0

    code, out, _ = run(capsys, "volume", "list")
    assert code == 0
    header, *rows = out.splitlines()
    assert header.split() == ["NAME", "KIND", "BUCKET/ROOT", "ENDPOINT", "IDENTITY"]
    assert [row.split(maxsplit=4) for row in rows] == [
        ["disk", "local", "/srv/data", "-", "local disk"],
        ["photos", "s3", "my-photos/2024", "-", f"access key AKIAEXAMPLE (environment variable {SECRET_ENV})"],
    ]
    code, out, _ = run(capsys, "volume", "list", "--json")
    listed = {volume["name"]: volume for volume in events(out)}
    assert listed["photos"]["secret_env"] == SECRET_ENV
    assert listed["photos"]["access_key_id"] == "AKIAEXAMPLE"
    assert listed["photos"]["identity"] == f"access key AKIAEXAMPLE (environment variable {SECRET_ENV})"
    assert listed["disk"]["root"] == "/srv/data"

    volumes_file = Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml"
    assert secret not in volumes_file.read_text()
    assert tomllib.loads(volumes_file.read_text())["volumes"]["photos"]["bucket"] == "my-photos"

    code, _, err = run(capsys, "volume", "add", "photos", "--kind", "s3", "--bucket", "other")
    assert code == 1
    assert err.startswith("sdgui: config error") and "already exists" in err and len(err.splitlines()) == 1

    assert run(capsys, "volume", "remove", "photos")[0] == 0
    assert run(capsys, "volume", "remove", "disk")[0] == 0
    code, out, _ = run(capsys, "volume", "list")
    assert code == 0 and "no volumes" in out
    code, _, err = run(capsys, "volume", "remove", "photos")
    assert code == 1 and err.startswith("sdgui: not-found error")


def test_volume_add_keeps_the_secret_in_the_keyring(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    secret = "typed-secret-9876543210"
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    code, out, err = run(
        capsys,
        *("volume", "add", "kr", "--kind", "s3", "--bucket", "b", "--endpoint", "http://127.0.0.1:9"),
        *("--allow-http", "--access-key-id", "AK-1"),
    )
    assert (code, err) == (0, "")
    assert "keyring" in out and secret not in out
    assert keyring.get_password("sdgui", "kr") == secret
    assert secret not in (Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").read_text()

    assert run(capsys, "volume", "remove", "kr")[0] == 0
    assert keyring.get_password("sdgui", "kr") is None


def test_volume_add_without_keyring_suggests_secret_env(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, memory_keyring: MemoryKeyring
) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    secret = "typed-secret-without-keyring"
    monkeypatch.setattr(sys, "stdin", io.StringIO(secret + "\n"))
    code, out, err = run(capsys, "volume", "add", "nokr", "--kind", "s3", "--bucket", "b", "--access-key-id", "AK-2")
    assert code == 1
    assert len(err.splitlines()) == 1
    assert err.startswith("sdgui: keyring error") and "--secret-env" in err
    assert secret not in out + err
    assert not (Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").exists()


def test_volume_test_passes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, bucket: str
) -> None:
    add_volume(capsys, monkeypatch, s3_server, bucket)
    code, out, err = run(capsys, "volume", "test", "cloud")
    assert (code, err) == (0, "")
    assert [line.split()[:2] for line in out.splitlines()] == [
        ["✓", "list"],
        ["✓", "write"],
        ["✓", "read"],
        ["✓", "delete"],
    ]
    assert keys(s3_server, bucket) == []  # the probe is gone


def test_wrong_secret_is_a_credentials_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, rclone_s3: S3Server, tmp_path: Path
) -> None:
    bucket = rclone_s3.new_bucket()
    try:
        add_volume(capsys, monkeypatch, rclone_s3, bucket, secret="not-the-right-secret")
        code, out, err = run(capsys, "volume", "test", "cloud")
        assert code == 1
        assert out.splitlines()[-1].startswith("✗ list")
        assert len(err.splitlines()) == 1
        assert err.startswith("sdgui: credentials error") and "not-the-right-secret" not in err

        (tmp_path / "f.txt").write_text("data")
        code, out, err = run(capsys, "copy", str(tmp_path / "f.txt"), "cloud:")
        assert code == 1
        assert len(err.splitlines()) == 1, err  # the fatal error once, not once per file and once for the job
        assert err.startswith("sdgui: credentials error") and "not-the-right-secret" not in out + err
    finally:
        rclone_s3.delete_bucket(bucket)


def test_volume_test_unreachable_is_a_network_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server, closed_port_endpoint: str
) -> None:
    add_volume(capsys, monkeypatch, moto_s3, "any-bucket", endpoint=closed_port_endpoint)
    code, out, err = run(capsys, "volume", "test", "cloud")
    assert code == 1
    assert out.splitlines()[-1].startswith("✗ list")
    assert len(err.splitlines()) == 1 and err.startswith("sdgui: network error")


def test_volume_test_missing_secret_env(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server
) -> None:
    add_volume(capsys, monkeypatch, moto_s3, "any-bucket")
    monkeypatch.delenv(SECRET_ENV)
    code, out, err = run(capsys, "volume", "test", "cloud")
    assert (code, out) == (1, "")
    assert err.startswith("sdgui: credentials error") and f"{SECRET_ENV} is not set" in err
