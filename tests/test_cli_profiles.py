"""`sdgui volume add --profile` and copies through an AWS profile, against real local servers."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from tests.aws_profiles import AwsFiles, aws_files
from tests.servers import S3Server
from tests.test_cli import MiB, events, get, run


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsFiles:
    return aws_files(tmp_path, monkeypatch)


def test_profile_volume_adds_lists_and_copies_both_ways(
    capsys: pytest.CaptureFixture[str], aws: AwsFiles, rclone_s3: S3Server, tmp_path: Path
) -> None:
    aws.write(
        config=f"[profile team]\nregion = eu-west-1\nendpoint_url = {rclone_s3.endpoint}\n",
        credentials=f"[team]\naws_access_key_id = {rclone_s3.access_key_id}\n"
        f"aws_secret_access_key = {rclone_s3.secret_access_key}\n",
    )
    bucket = rclone_s3.new_bucket()
    code, out, err = run(
        capsys, "volume", "add", "work", "--kind", "s3", "--bucket", bucket, "--profile", "team", "--allow-http"
    )
    assert (code, err) == (0, "")
    assert "AWS profile team" in out
    table = (Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").read_text()
    assert tomllib.loads(table)["volumes"]["work"] == {
        "kind": "s3", "bucket": bucket, "prefix": "", "allow_http": True, "read_only": False, "profile": "team"
    }  # fmt: skip
    assert rclone_s3.secret_access_key not in table

    code, out, _ = run(capsys, "volume", "list")
    assert out.splitlines()[1].split(maxsplit=4)[4] == "profile team"
    code, out, _ = run(capsys, "volume", "list", "--json")
    assert events(out)[0]["identity"] == "profile team"

    body = os.urandom(12 * MiB)  # big enough for a multipart upload: botocore's control plane, same profile
    (tmp_path / "big.bin").write_bytes(body)
    code, out, err = run(capsys, "copy", str(tmp_path / "big.bin"), "work:in/big.bin")
    assert (code, err) == (0, ""), out
    assert get(rclone_s3, bucket, "in/big.bin") == body
    code, out, err = run(capsys, "copy", "work:in/big.bin", str(tmp_path / "back.bin"))
    assert (code, err) == (0, ""), out
    assert (tmp_path / "back.bin").read_bytes() == body
    assert run(capsys, "volume", "test", "work")[0] == 0
    rclone_s3.delete_bucket(bucket)


def test_add_refuses_a_missing_profile_and_a_second_identity(capsys: pytest.CaptureFixture[str], aws: AwsFiles) -> None:
    aws.write(config="[profile real]\nregion = eu-west-1\n")
    code, _, err = run(capsys, "volume", "add", "v", "--kind", "s3", "--bucket", "b", "--profile", "typo")
    assert code == 1 and "no AWS profile named typo" in err
    code, _, err = run(
        capsys, "volume", "add", "v", "--kind", "s3", "--bucket", "b", "--profile", "real", "--access-key-id", "AK"
    )
    assert code == 1 and "either an AWS profile or an access key" in err
    assert not (Path(os.environ["SDGUI_CONFIG_DIR"]) / "volumes.toml").exists()


def test_a_broken_profile_fails_the_volume_test_with_its_reason(
    capsys: pytest.CaptureFixture[str], aws: AwsFiles
) -> None:
    aws.write(
        config="[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n"
        "sso_account_id = 123456789012\nsso_role_name = Reader\n"
    )
    assert run(capsys, "volume", "add", "corp", "--kind", "s3", "--bucket", "b", "--profile", "sso")[0] == 0
    code, _, err = run(capsys, "volume", "test", "corp")
    assert code == 1
    assert err.startswith("sdgui: credentials error") and "run `aws sso login --profile sso`" in err
