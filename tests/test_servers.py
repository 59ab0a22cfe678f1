"""The test S3 servers themselves answer, keep data across restarts and stay apart from each other."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import platformdirs
import pytest
from botocore.exceptions import ClientError

from tests.servers import LOOPBACK, S3Server, start_rclone


def test_put_get_roundtrip(s3_server: S3Server, bucket: str) -> None:
    s3 = s3_server.client()
    body = os.urandom(100_000)
    s3.put_object(Bucket=bucket, Key="dir/file.bin", Body=body)

    assert s3.get_object(Bucket=bucket, Key="dir/file.bin")["Body"].read() == body
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(o["Key"], o["Size"]) for o in listed] == [("dir/file.bin", len(body))]


def test_new_bucket_is_unique_and_empty(s3_server: S3Server) -> None:
    first, second = s3_server.new_bucket(), s3_server.new_bucket()
    try:
        assert first != second
        assert s3_server.client().list_objects_v2(Bucket=first).get("KeyCount", 0) == 0
    finally:
        s3_server.delete_bucket(first)
        s3_server.delete_bucket(second)


def test_no_open_multipart_uploads_is_empty(s3_server: S3Server, bucket: str) -> None:
    assert s3_server.open_multipart_uploads(bucket) == []


def test_multipart_upload_is_listed_then_aborted(moto_s3: S3Server) -> None:
    bucket = moto_s3.new_bucket()
    s3 = moto_s3.client()
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload_id, PartNumber=1, Body=b"x" * (5 * 1024 * 1024))

    assert moto_s3.open_multipart_uploads(bucket) == [("big.bin", upload_id)]

    s3.abort_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=upload_id)
    assert moto_s3.open_multipart_uploads(bucket) == []
    moto_s3.delete_bucket(bucket)


def test_rclone_restart_keeps_data_and_port(rclone_s3: S3Server) -> None:
    bucket = rclone_s3.new_bucket()
    s3 = rclone_s3.client()
    s3.put_object(Bucket=bucket, Key="kept.txt", Body=b"still here")
    endpoint = rclone_s3.endpoint
    assert rclone_s3.process is not None
    old_pid = rclone_s3.process.pid

    rclone_s3.restart()

    assert rclone_s3.process is not None and rclone_s3.process.pid != old_pid
    assert rclone_s3.endpoint == endpoint
    assert s3.get_object(Bucket=bucket, Key="kept.txt")["Body"].read() == b"still here"
    assert rclone_s3.data_dir is not None and (rclone_s3.data_dir / bucket / "kept.txt").is_file()
    rclone_s3.delete_bucket(bucket)


def test_killed_server_is_reaped_and_restarted(tmp_path: Path) -> None:
    server = start_rclone(tmp_path / "private")
    try:
        assert server.process is not None
        server.process.kill()
        server.process.wait(timeout=10)
        assert not server.running

        server.ensure_running()

        assert server.running
        assert server.client().list_buckets()["Buckets"] == []
    finally:
        server.close()
    assert server.process is None


def test_two_rclone_servers_are_separate_clouds(rclone_s3: S3Server, rclone_s3_b: S3Server) -> None:
    assert rclone_s3.endpoint != rclone_s3_b.endpoint
    assert rclone_s3.access_key_id != rclone_s3_b.access_key_id
    bucket = rclone_s3.new_bucket()
    try:
        names_b = [b["Name"] for b in rclone_s3_b.client().list_buckets()["Buckets"]]
        assert bucket not in names_b
    finally:
        rclone_s3.delete_bucket(bucket)


def test_rclone_rejects_the_other_servers_credentials(rclone_s3: S3Server, rclone_s3_b: S3Server) -> None:
    impostor = S3Server(
        name="rclone",
        endpoint=rclone_s3.endpoint,
        access_key_id=rclone_s3_b.access_key_id,
        secret_access_key=rclone_s3_b.secret_access_key,
        process=None,
        data_dir=None,
        log_path=rclone_s3.log_path,
        command=rclone_s3.command,
    )
    try:
        with pytest.raises(ClientError) as caught:
            impostor.client().list_buckets()
        assert caught.value.response["Error"]["Code"] in {"InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied"}
    finally:
        impostor.close()  # Closes its client; it owns no process.


def test_closed_port_endpoint_refuses_connections(closed_port_endpoint: str) -> None:
    port = int(closed_port_endpoint.rsplit(":", 1)[1])
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock, pytest.raises(ConnectionRefusedError):
        sock.connect((LOOPBACK, port))


def test_environment_is_isolated() -> None:
    assert not any(name in os.environ for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE"))
    config_dir = Path(os.environ["SDGUI_CONFIG_DIR"])
    data_dir = Path(os.environ["SDGUI_DATA_DIR"])
    assert config_dir.is_dir() and data_dir.is_dir() and config_dir != data_dir
    assert config_dir != Path(platformdirs.user_config_dir("sdgui"))
    assert os.environ["QT_QPA_PLATFORM"]
