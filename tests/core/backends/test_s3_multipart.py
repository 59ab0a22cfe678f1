"""S3MultipartClient against moto and rclone serve s3: open uploads, part checksums, and botocore's errors in
sdgui's terms (resuming, cancelling and a changed file: test_s3_resumable_uploads.py)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from sdgui.core import errors
from sdgui.core.backends.botocore_errors import classify
from sdgui.core.backends.local import LocalBackend
from sdgui.core.backends.part_checksums import crc64nvme_b64, crc64nvme_model
from sdgui.core.backends.resumable_uploads import MIN_PART_SIZE
from sdgui.core.backends.s3.multipart import S3MultipartClient
from sdgui.core.copy.upload.resumable import supports_resumable_upload
from sdgui.core.volumes import VolumeConfig
from tests.core.backends.multipart_support import (
    multipart_client,
    volume,
)
from tests.servers import S3Server

# -- open uploads --------------------------------------------------------------------------------------------


def test_lists_and_aborts_open_uploads(client: S3MultipartClient, s3_server: S3Server, bucket: str) -> None:
    assert client.list_uploads() == []  # rclone says 404 NoSuchUpload here: that means none
    s3 = s3_server.client()
    ids = {s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]: key for key in ("a/one", "a/two", "b")}
    listed = client.list_uploads()
    assert {(u.key, u.upload_id) for u in listed} == {(key, uid) for uid, key in ids.items()}
    assert all(u.initiated is not None and u.initiated.tzinfo is not None for u in listed)
    assert {u.key for u in client.list_uploads("a/")} == {"a/one", "a/two"}

    first = next(u for u in listed if u.key == "b")
    client.abort(first.key, first.upload_id)
    client.abort(first.key, first.upload_id)  # already gone: not an error
    assert sorted(k for k, _ in s3_server.open_multipart_uploads(bucket)) == ["a/one", "a/two"]


def test_a_volume_prefix_is_added_and_stripped(s3_server: S3Server, bucket: str) -> None:
    s3 = s3_server.client()
    inside = s3.create_multipart_upload(Bucket=bucket, Key="team/docs/x.iso")["UploadId"]
    s3.create_multipart_upload(Bucket=bucket, Key="other/y.iso")
    multipart = multipart_client(volume(s3_server, bucket, prefix="team"), s3_server.secret_access_key)
    try:
        assert [(u.key, u.upload_id) for u in multipart.list_uploads()] == [("docs/x.iso", inside)]
        multipart.abort("docs/x.iso", inside)
    finally:
        multipart.close()
    assert [k for k, _ in s3_server.open_multipart_uploads(bucket)] == ["other/y.iso"]


def test_crc64nvme_part_checksums_where_the_server_has_them(client: S3MultipartClient, s3_server: S3Server) -> None:
    started = client.start("probe", {"k": "v"})
    try:
        # moto and SeaweedFS echo ChecksumAlgorithm; rclone serve s3 ignores it, so its parts rely on Content-MD5
        # (which it checks).
        assert started.checksum == ("md5" if s3_server.name == "rclone" else "crc64nvme")
        part = client.upload_part("probe", started.upload_id, 1, b"abc", checksum=started.checksum)
        assert part.algorithm == started.checksum
        assert part.checksum == (None if started.checksum == "md5" else crc64nvme_b64(crc64nvme_model().calc(b"abc")))
        listed = client.list_parts("probe", started.upload_id)[1]
        assert listed.etag == part.etag
        assert listed.matches(b"abc") and not listed.matches(b"abd")
    finally:
        client.abort("probe", started.upload_id)


def test_a_multipart_object_carries_the_full_object_crc64nvme(
    client: S3MultipartClient, s3_server: S3Server, bucket: str
) -> None:
    """Completion says the whole object's CRC64NVME, combined from the parts': SeaweedFS checks it and keeps it as
    the object's checksum, which any tool can check after a download."""
    if s3_server.name != "seaweedfs":
        pytest.skip("rclone serve s3 keeps no checksums; moto keeps a 4-byte value for a CRC64NVME")
    first, second = os.urandom(MIN_PART_SIZE), os.urandom(1000)
    started = client.start("whole.bin", {})
    parts = [
        client.upload_part("whole.bin", started.upload_id, n, data, checksum=started.checksum)
        for n, data in ((1, first), (2, second))
    ]
    client.complete("whole.bin", started.upload_id, parts, {})
    head = s3_server.client().head_object(Bucket=bucket, Key="whole.bin", ChecksumMode="ENABLED")
    assert head["ChecksumType"] == "FULL_OBJECT"
    assert head["ChecksumCRC64NVME"] == crc64nvme_b64(crc64nvme_model().calc(first + second))


def test_completion_sends_the_whole_objects_crc64nvme_and_the_server_checks_it(
    client: S3MultipartClient, s3_server: S3Server, bucket: str
) -> None:
    """Completion names the whole object's CRC64NVME, combined from the parts'. A value damaged on its way is
    refused by the server, and no object appears."""
    if s3_server.name != "seaweedfs":
        pytest.skip("only SeaweedFS checks the full-object checksum here")
    first, second = os.urandom(MIN_PART_SIZE), os.urandom(1000)
    sent: list[str] = []

    def damage(params: dict[str, Any], **_: Any) -> None:
        sent.append(params["ChecksumCRC64NVME"])
        params["ChecksumCRC64NVME"] = crc64nvme_b64(crc64nvme_model().calc(first + second) ^ 1)

    client.client.meta.events.register("provide-client-params.s3.CompleteMultipartUpload", damage)
    started = client.start("wrong.bin", {})
    try:
        parts = [
            client.upload_part("wrong.bin", started.upload_id, n, data, checksum=started.checksum)
            for n, data in ((1, first), (2, second))
        ]
        with pytest.raises(errors.ChecksumMismatchError):
            client.complete("wrong.bin", started.upload_id, parts, {})
    finally:
        client.abort("wrong.bin", started.upload_id)
    assert sent == [crc64nvme_b64(crc64nvme_model().calc(first + second))]
    assert s3_server.client().list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_a_part_damaged_on_the_way_is_refused(client: S3MultipartClient, s3_server: S3Server) -> None:
    if s3_server.name == "moto":
        pytest.skip("moto_server checks neither Content-MD5 nor the parts' checksums")
    started = client.start("damaged", {})
    try:
        real = client.client.upload_part

        def corrupting(**request: Any) -> Any:
            return real(**{**request, "Body": b"X" + request["Body"][1:]})

        client.client.upload_part = corrupting  # botocore clients are plain objects: swap the call
        with pytest.raises(errors.ChecksumMismatchError):
            client.upload_part("damaged", started.upload_id, 1, b"abc" * 1000)
    finally:
        client.abort("damaged", started.upload_id)


def test_a_wrong_secret_is_a_credentials_error(s3_server: S3Server, bucket: str) -> None:
    if s3_server.name == "moto":
        pytest.skip("the test moto_server checks no signatures")
    multipart = multipart_client(volume(s3_server, bucket), "not-the-secret")
    try:
        with pytest.raises(errors.CredentialsError) as caught:
            multipart.list_uploads()
        assert "not-the-secret" not in str(caught.value)
        assert "cloud" in str(caught.value)
        with pytest.raises(errors.CredentialsError):
            multipart.start("x", {})
    finally:
        multipart.close()


def test_a_missing_bucket_is_not_found(s3_server: S3Server) -> None:
    if s3_server.name == "seaweedfs":
        pytest.skip("SeaweedFS creates a missing bucket on CreateMultipartUpload for an admin identity")
    multipart = multipart_client(volume(s3_server, "no-such-bucket-here"), s3_server.secret_access_key)
    try:
        with pytest.raises(errors.NotFoundError, match="bucket"):
            multipart.start("x", {})
    finally:
        multipart.close()


def test_only_s3_and_r2_volumes_have_a_multipart_client(tmp_path: Path) -> None:
    with pytest.raises(errors.ConfigError):
        multipart_client(VolumeConfig("disk", "local", root=str(tmp_path)), None)
    with pytest.raises(errors.CredentialsError):
        multipart_client(VolumeConfig("c", "s3", bucket="b", access_key_id="AKID"), None)
    assert not supports_resumable_upload(LocalBackend(tmp_path, volume="disk"))


@pytest.mark.parametrize(
    ("code", "status", "kind"),
    [
        ("SignatureDoesNotMatch", 403, errors.CredentialsError),
        ("InvalidAccessKeyId", 403, errors.CredentialsError),
        ("AccessDenied", 403, errors.PermissionDeniedError),
        ("NoSuchBucket", 404, errors.NotFoundError),
        ("NoSuchUpload", 404, errors.NotFoundError),
        ("SlowDown", 503, errors.ThrottledError),
        ("ServiceUnavailable", 503, errors.ThrottledError),
        ("InternalError", 500, errors.ServiceError),
        ("BadDigest", 400, errors.ChecksumMismatchError),
        ("EntityTooSmall", 400, errors.SdError),
    ],
)
def test_client_errors_map_to_sdgui_errors(code: str, status: int, kind: type[errors.SdError]) -> None:
    exc = ClientError({"Error": {"Code": code, "Message": "m"}, "ResponseMetadata": {"HTTPStatusCode": status}}, "Op")
    mapped = classify(exc, volume="vol", path="a/key")
    assert type(mapped) is kind
    assert mapped.where == "vol:a/key"


def test_connection_failures_are_network_errors() -> None:
    for exc in (EndpointConnectionError(endpoint_url="http://x"), ReadTimeoutError(endpoint_url="http://x")):
        assert isinstance(classify(exc, volume="vol", path=None), errors.NetworkError)
