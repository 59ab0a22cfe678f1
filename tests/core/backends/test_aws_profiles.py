"""AWS profiles as a volume's identity, resolved by botocore and shared with obstore, against real local servers."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdgui.core import errors
from sdgui.core.backends.factory import available_profiles, backend_for_config
from sdgui.core.backends.s3 import S3Backend
from sdgui.core.volumes import VolumeConfig
from tests.aws_profiles import AwsFiles, aws_files
from tests.servers import MOTO_CREDENTIALS, S3Server


@pytest.fixture
def aws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsFiles:
    return aws_files(tmp_path, monkeypatch)


def profile_volume(bucket: str, profile: str, **overrides: object) -> VolumeConfig:
    fields: dict[str, object] = {"name": "prof", "kind": "s3", "bucket": bucket, "profile": profile, "allow_http": True}
    fields.update(overrides)
    return VolumeConfig(**fields)  # type: ignore[arg-type]


def round_trip(backend: S3Backend, key: str = "p/hello.txt") -> None:
    """Bytes through obstore (write, read), then the botocore control plane (a multipart upload's lifecycle)."""
    body = b"profile bytes " * 1000
    backend.write(key, [body], size=len(body))
    assert b"".join(backend.read(key)) == body
    uploads = backend.resumable_uploads()
    new = uploads.start("p/multi.bin", {})
    assert [u.upload_id for u in uploads.list_uploads("p/")] == [new.upload_id]
    uploads.abort("p/multi.bin", new.upload_id)
    backend.delete(key)


def static_profile(aws: AwsFiles, server: S3Server, *, name: str = "static", endpoint: bool = True) -> None:
    endpoint_line = f"endpoint_url = {server.endpoint}\n" if endpoint else ""
    aws.write(
        config=f"[profile {name}]\nregion = eu-central-1\n{endpoint_line}",
        credentials=f"[{name}]\naws_access_key_id = {server.access_key_id}\n"
        f"aws_secret_access_key = {server.secret_access_key}\n",
    )


def test_static_keys_profile_with_its_endpoint_and_region(aws: AwsFiles, s3_server: S3Server, bucket: str) -> None:
    static_profile(aws, s3_server)
    assert available_profiles() == ["static"]
    backend = backend_for_config(profile_volume(bucket, "static"))
    assert isinstance(backend, S3Backend)
    try:
        config = backend.config
        assert (config.endpoint, config.region, config.path_style) == (s3_server.endpoint, "eu-central-1", True)
        assert config.aws_profile is not None and config.aws_profile.method == "shared-credentials-file"
        assert s3_server.secret_access_key not in repr(config)
        round_trip(backend)
    finally:
        backend.close()


def test_the_volumes_own_endpoint_and_region_win(aws: AwsFiles, rclone_s3: S3Server) -> None:
    aws.write(
        config="[profile p]\nregion = eu-central-1\nendpoint_url = http://127.0.0.1:9\n",
        credentials=f"[p]\naws_access_key_id = {rclone_s3.access_key_id}\n"
        f"aws_secret_access_key = {rclone_s3.secret_access_key}\n",
    )
    bucket = rclone_s3.new_bucket()
    backend = backend_for_config(profile_volume(bucket, "p", endpoint=rclone_s3.endpoint, region="us-west-2"))
    assert isinstance(backend, S3Backend)
    try:
        assert (backend.config.endpoint, backend.config.region) == (rclone_s3.endpoint, "us-west-2")
        round_trip(backend)
    finally:
        backend.close()
        rclone_s3.delete_bucket(bucket)


def test_a_wrong_key_in_the_profile_is_refused_by_the_server(aws: AwsFiles, rclone_s3: S3Server) -> None:
    aws.write(
        config=f"[profile bad]\nendpoint_url = {rclone_s3.endpoint}\n",
        credentials=f"[bad]\naws_access_key_id = {rclone_s3.access_key_id}\naws_secret_access_key = wrong-secret\n",
    )
    bucket = rclone_s3.new_bucket()
    backend = backend_for_config(profile_volume(bucket, "bad"))
    try:
        with pytest.raises(errors.CredentialsError):
            backend.write("x.txt", [b"x"], size=1)
    finally:
        backend.close()
        rclone_s3.delete_bucket(bucket)


def test_credential_process_profile(aws: AwsFiles, s3_server: S3Server, bucket: str) -> None:
    command = aws.process_script("creds", key=s3_server.access_key_id, secret=s3_server.secret_access_key)
    aws.write(config=f"[profile proc]\ncredential_process = {command}\nendpoint_url = {s3_server.endpoint}\n")
    backend = backend_for_config(profile_volume(bucket, "proc"))
    assert isinstance(backend, S3Backend)
    try:
        assert backend.config.aws_profile is not None
        assert backend.config.aws_profile.method == "custom-process"
        provided = backend.config.aws_profile.credential_provider()()
        assert provided["access_key_id"] == s3_server.access_key_id
        assert provided["expires_at"] is not None, "expiring credentials must be asked for again"
        round_trip(backend)
    finally:
        backend.close()


def test_a_failing_credential_process_reports_what_it_said(aws: AwsFiles) -> None:
    command = aws.process_script("broken", key="", secret="", fail="the token broker says no")
    aws.write(config=f"[profile proc]\ncredential_process = {command}\n")
    with pytest.raises(errors.CredentialsError, match="the token broker says no") as info:
        backend_for_config(profile_volume("b", "proc"))
    assert "AWS profile proc" in str(info.value)


def test_assume_role_chain_against_moto_sts(aws: AwsFiles, moto_s3: S3Server) -> None:
    # botocore creates the STS client of an assume-role chain from the same session, so the role profile's
    # services section points STS (and S3) at moto.
    key, secret = MOTO_CREDENTIALS
    aws.write(
        config=f"[profile base]\nregion = eu-west-1\n"
        "[profile role]\nrole_arn = arn:aws:iam::123456789012:role/sdgui-test\nsource_profile = base\n"
        f"region = eu-west-1\nservices = local\n[services local]\nsts =\n  endpoint_url = {moto_s3.endpoint}\n"
        f"s3 =\n  endpoint_url = {moto_s3.endpoint}\n",
        credentials=f"[base]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n",
    )
    bucket = moto_s3.new_bucket()
    backend = backend_for_config(profile_volume(bucket, "role"))
    assert isinstance(backend, S3Backend)
    try:
        profile = backend.config.aws_profile
        assert profile is not None and profile.method == "assume-role"
        provided = profile.credential_provider()()
        assert provided["access_key_id"].startswith("ASIA") and provided["token"]  # STS's temporary keys
        assert provided["access_key_id"] != key
        assert backend.config.endpoint == moto_s3.endpoint
        round_trip(backend)
    finally:
        backend.close()
        moto_s3.delete_bucket(bucket)


@pytest.mark.parametrize(
    "config",
    [
        "[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n"
        "sso_account_id = 123456789012\nsso_role_name = Reader\n",
        "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\nsso_role_name = Reader\n"
        "[sso-session corp]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\n",
    ],
    ids=["legacy", "sso-session"],
)
def test_sso_profile_without_a_token_says_to_log_in(aws: AwsFiles, config: str) -> None:
    aws.write(config=config)
    with pytest.raises(errors.CredentialsError) as info:
        backend_for_config(profile_volume("b", "sso"))
    assert "run `aws sso login --profile sso`" in str(info.value)


def test_a_missing_profile_names_it(aws: AwsFiles) -> None:
    aws.write(config="[profile other]\nregion = eu-west-1\n")
    with pytest.raises(errors.ConfigError, match="no AWS profile named prod"):
        backend_for_config(profile_volume("b", "prod"))


def test_a_profile_without_credentials_never_falls_back(
    aws: AwsFiles, moto_s3: S3Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Credentials the environment and the default profile would offer, and that moto would accept: never used.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", MOTO_CREDENTIALS[0])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", MOTO_CREDENTIALS[1])
    aws.write(
        config=f"[profile empty]\nregion = eu-west-1\nendpoint_url = {moto_s3.endpoint}\n",
        credentials=f"[default]\naws_access_key_id = {MOTO_CREDENTIALS[0]}\n"
        f"aws_secret_access_key = {MOTO_CREDENTIALS[1]}\n",
    )
    with pytest.raises(errors.CredentialsError, match="AWS profile empty has no credentials"):
        backend_for_config(profile_volume("b", "empty"))


def test_a_profile_excludes_keys_and_applies_to_s3_only() -> None:
    with pytest.raises(errors.ConfigError, match="either an AWS profile or an access key"):
        profile_volume("b", "p", access_key_id="AKIA").validate()
    with pytest.raises(errors.ConfigError, match="either an AWS profile or an access key"):
        profile_volume("b", "p", secret_env="VAR").validate()
    with pytest.raises(errors.ConfigError, match="only to s3 and r2"):
        profile_volume("b", "p", kind="gcs").validate()
    with pytest.raises(errors.ConfigError, match="invalid AWS profile name"):
        profile_volume("b", "two words").validate()
    config = profile_volume("b", "prod")
    assert VolumeConfig.from_dict(config.to_dict()) == config


def test_a_plain_http_profile_endpoint_needs_allow_http(aws: AwsFiles, rclone_s3: S3Server) -> None:
    static_profile(aws, rclone_s3)
    with pytest.raises(errors.ConfigError, match="allow_http"):
        backend_for_config(profile_volume("b", "static", allow_http=False))
