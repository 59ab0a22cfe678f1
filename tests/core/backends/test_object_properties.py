"""Properties of an object as the service holds them, and Content-Type / Cache-Control changed in place: checked with
the service's own client afterwards (bytes, user metadata and the other headers unchanged)."""

from __future__ import annotations

import base64
import hashlib
import os
import stat
import urllib.request
import zlib
from pathlib import Path

import crc32c
import pytest
from azure.storage.blob import ContentSettings

from sdgui.core import errors
from sdgui.core.backends.base import VolumeBackend, crc64nvme_model
from sdgui.core.backends.factory import backend_for_config
from sdgui.core.backends.gcs import GcsBackend
from sdgui.core.backends.local import LocalBackend
from sdgui.core.backends.part_checksums import crc64nvme_b64
from sdgui.core.settings import TransferSettings
from sdgui.core.volumes import VolumeConfig
from tests.cloud_servers import Azurite, GcsXml
from tests.copying import add_azure_volume, add_gcs_volume, add_volume
from tests.core.backends.test_share_links import gcs_key_volume
from tests.providers.common import open_backend
from tests.servers import S3Server


@pytest.fixture(params=["moto", "seaweedfs"])
def checksum_server(request: pytest.FixtureRequest) -> S3Server:
    server: S3Server = request.getfixturevalue({"moto": "moto_s3", "seaweedfs": "seaweed_s3"}[request.param])
    server.ensure_running()
    return server


def test_a_full_object_crc64nvme_is_a_check_and_a_value_of_the_wrong_length_is_none(checksum_server: S3Server) -> None:
    """A multipart object another tool wrote with CRC64NVME parts: SeaweedFS keeps the whole object's CRC64NVME,
    which proves a download; moto answers HEAD with a 4-byte value for it, which proves nothing and is left out."""
    bucket = checksum_server.new_bucket()
    client = checksum_server.client()
    parts = [os.urandom(5 * 1024 * 1024), os.urandom(1000)]
    upload = client.create_multipart_upload(Bucket=bucket, Key="big.bin", ChecksumAlgorithm="CRC64NVME")["UploadId"]
    listed = []
    for number, data in enumerate(parts, 1):
        crc = crc64nvme_b64(crc64nvme_model().calc(data))
        answer = client.upload_part(
            Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=number, Body=data, ChecksumCRC64NVME=crc
        )
        listed.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumCRC64NVME": crc})
    client.complete_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=upload, MultipartUpload={"Parts": listed})
    add_volume(checksum_server, bucket)
    backend = open_backend("cloud")
    try:
        checksums = backend.stat_with_checksums("big.bin").checksums
    finally:
        backend.close()
    if checksum_server.name == "seaweedfs":
        assert checksums == {"crc64nvme": f"{crc64nvme_model().calc(b''.join(parts)):016x}"}
    else:
        assert (
            checksum_server.client()
            .head_object(Bucket=bucket, Key="big.bin", ChecksumMode="ENABLED")
            .get("ChecksumCRC64NVME")
        )  # moto's value is there, and 4 bytes long
        assert checksums == {}


@pytest.mark.parametrize("algorithm", ["SHA256", "CRC32"])
def test_s3_properties_show_the_checksums_and_headers_the_service_holds(
    checksum_server: S3Server, algorithm: str
) -> None:
    bucket = checksum_server.new_bucket()
    data = os.urandom(40_000)
    client = checksum_server.client()
    client.put_object(
        Bucket=bucket,
        Key="site/index.html",
        Body=data,
        ContentType="text/html",
        CacheControl="no-cache",
        ContentLanguage="de",
        Metadata={"owner": "ops"},
        ChecksumAlgorithm=algorithm,
    )
    add_volume(checksum_server, bucket)
    backend = open_backend("cloud")
    try:
        shown = backend.properties("site/index.html")
        expected = hashlib.sha256(data).hexdigest() if algorithm == "SHA256" else f"{zlib.crc32(data):08x}"
        assert shown.entry.checksums[algorithm.lower()] == expected
        assert shown.entry.checksums["md5"] == hashlib.md5(data).hexdigest()
        assert shown.entry.size == len(data) and shown.entry.modified is not None and shown.entry.etag
        assert (shown.content_type, shown.cache_control, shown.storage_class) == ("text/html", "no-cache", "STANDARD")
        assert shown.entry.metadata == {"owner": "ops"} and shown.other_headers == {"content-language": "de"}
        assert shown.editable

        changed = backend.set_headers(
            "site/index.html", content_type="text/html; charset=utf-8", cache_control="max-age=600",
            if_match=shown.entry.etag,
        )  # fmt: skip
        assert (changed.content_type, changed.cache_control) == ("text/html; charset=utf-8", "max-age=600")
        head = client.head_object(Bucket=bucket, Key="site/index.html", ChecksumMode="ENABLED")
        assert head["ContentType"] == "text/html; charset=utf-8" and head["CacheControl"] == "max-age=600"
        assert head["Metadata"] == {"owner": "ops"} and head["ContentLanguage"] == "de"
        assert head[f"Checksum{algorithm}"] == base64.b64encode(bytes.fromhex(expected)).decode()  # kept
        assert client.get_object(Bucket=bucket, Key="site/index.html")["Body"].read() == data

        # Removing the cache control.
        backend.set_headers("site/index.html", content_type="text/plain", cache_control="", if_match=None)
        head = client.head_object(Bucket=bucket, Key="site/index.html")
        assert head["ContentType"] == "text/plain" and "CacheControl" not in head
        # Other bytes written since the properties were read: refused, and they keep their headers.
        client.put_object(Bucket=bucket, Key="site/index.html", Body=b"new", ContentType="text/css")
        with pytest.raises(errors.ConflictError):
            backend.set_headers("site/index.html", content_type="x/y", cache_control=None, if_match=shown.entry.etag)
        assert client.head_object(Bucket=bucket, Key="site/index.html")["ContentType"] == "text/css"
    finally:
        backend.close()
        checksum_server.delete_bucket(bucket)


def test_azure_properties_and_set_blob_properties_keep_the_other_headers(
    azurite: Azurite, azure_container: str
) -> None:
    data = os.urandom(30_000)
    blob = azurite.blob(azure_container, "media/clip.mp4")
    blob.upload_blob(
        data,
        metadata={"owner": "ops"},
        content_settings=ContentSettings(content_type="video/mp4", content_language="en", cache_control="no-store"),
    )
    add_azure_volume(azurite, azure_container)
    backend = open_backend("azure")
    try:
        shown = backend.properties("media/clip.mp4")
        assert shown.entry.checksums == {"md5": hashlib.md5(data).hexdigest()}  # one Put Blob: the service's MD5
        assert (shown.content_type, shown.cache_control) == ("video/mp4", "no-store")
        assert shown.storage_class == "Hot" and shown.entry.size == len(data)
        assert shown.entry.metadata == {"owner": "ops"} and shown.other_headers == {"content-language": "en"}
        assert shown.editable

        backend.set_headers(
            "media/clip.mp4", content_type="video/webm", cache_control="max-age=60", if_match=shown.entry.etag
        )
        after = blob.get_blob_properties()
        settings = after.content_settings
        assert (settings.content_type, settings.cache_control) == ("video/webm", "max-age=60")
        assert settings.content_language == "en"
        assert bytes(settings.content_md5).hex() == hashlib.md5(data).hexdigest()  # kept, not cleared
        assert after.metadata == {"owner": "ops"}
        assert blob.download_blob().readall() == data
        with pytest.raises(errors.ConflictError):
            backend.set_headers("media/clip.mp4", content_type="a/b", cache_control=None, if_match=shown.entry.etag)
        assert blob.get_blob_properties().content_settings.content_type == "video/webm"
    finally:
        backend.close()


def adc_backend(opened: VolumeBackend) -> GcsBackend:
    """A GCS volume as the factory makes it with application default credentials (no key of sdgui's own, so no
    token for the JSON API), reading through the store of ``opened`` (a local server's volume)."""
    assert isinstance(opened, GcsBackend)
    return GcsBackend(opened.volume, opened.gcs_store, opened.capabilities, settings=TransferSettings())


def test_gcs_properties_without_a_key_are_read_only_and_say_why(gcs_xml: GcsXml, gcs_bucket: str) -> None:
    data = b"gcs object\n" * 100
    request = urllib.request.Request(
        f"{gcs_xml.endpoint}/{gcs_bucket}/notes.txt", data=data, method="PUT", headers={"Content-Type": "text/plain"}
    )
    urllib.request.urlopen(request, timeout=10).close()
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    # Application default credentials: the factory gives such a volume no JSON API of its own.
    adc = backend_for_config(VolumeConfig("adc", "gcs", bucket=gcs_bucket))
    assert isinstance(adc, GcsBackend) and adc.json_api is None
    backend = adc_backend(open_backend("gcs"))
    try:
        shown = backend.properties("notes.txt")
        assert shown.entry.checksums == {"md5": hashlib.md5(data).hexdigest()}
        assert shown.content_type == "text/plain" and shown.entry.size == len(data)
        assert not shown.editable and any("cannot be changed" in note for note in shown.notes)
        assert shown.storage_class is None and any("service account key" in note for note in shown.notes)
        with pytest.raises(errors.SdError):
            backend.set_headers("notes.txt", content_type="a/b", cache_control=None, if_match=None)
        assert gcs_xml.server.state.buckets[gcs_bucket]["notes.txt"].content_type == "text/plain"
    finally:
        backend.close()


def test_a_gcs_volume_with_a_key_shows_the_crc32c_and_storage_class(gcs_xml: GcsXml, gcs_bucket: str) -> None:
    """With a private key the volume signs a HEAD of its own and reads x-goog-hash and x-goog-storage-class."""
    data = os.urandom(12_345)
    request = urllib.request.Request(
        f"{gcs_xml.endpoint}/{gcs_bucket}/k/photo.jpg", data=data, method="PUT",
        headers={"Content-Type": "image/jpeg", "x-goog-meta-camera": "x100"},
    )  # fmt: skip
    urllib.request.urlopen(request, timeout=10).close()
    config, secret, _ = gcs_key_volume(gcs_xml, gcs_bucket)
    backend = backend_for_config(config, secret=secret)
    shown = backend.properties("k/photo.jpg")
    assert shown.entry.checksums == {"md5": hashlib.md5(data).hexdigest(), "crc32c": f"{crc32c.crc32c(data):08x}"}
    assert (shown.content_type, shown.storage_class) == ("image/jpeg", "STANDARD")
    assert shown.entry.metadata == {"camera": "x100"} and shown.entry.size == len(data)
    assert shown.editable and shown.notes == ()  # the JSON API's PATCH, with a token from the key
    with pytest.raises(errors.NotFoundError):
        backend.properties("k/missing.jpg")


def test_local_properties_are_what_the_os_tells(tmp_path: Path) -> None:
    (tmp_path / "run.sh").write_bytes(b"#!/bin/sh\n")
    os.chmod(tmp_path / "run.sh", 0o750)
    shown = LocalBackend(tmp_path).properties("run.sh")
    assert shown.permissions == stat.filemode(os.stat(tmp_path / "run.sh").st_mode) == "-rwxr-x---"
    assert shown.entry.size == 10 and shown.entry.modified is not None and not shown.editable


@pytest.fixture(params=["moto", "seaweedfs", "rclone"])
def any_s3(request: pytest.FixtureRequest) -> S3Server:
    server: S3Server = request.getfixturevalue(
        {"moto": "moto_s3", "seaweedfs": "seaweed_s3", "rclone": "rclone_s3"}[request.param]
    )
    server.ensure_running()
    return server


def test_headers_of_an_object_sdgui_wrote_change_and_its_blake3_and_checksum_stay(any_s3: S3Server) -> None:
    """sdgui's own uploads carry blake3 and mtime metadata (and a CRC64NVME where the server keeps one): a header
    change keeps all of it, so the next download still verifies."""
    bucket = any_s3.new_bucket()
    add_volume(any_s3, bucket)
    backend = open_backend("cloud")
    data = os.urandom(100_000)
    try:
        backend.write("mine.bin", [data], size=len(data), metadata={"sdgui-blake3": "ab" * 32, "mtime": "1.5"})
        before = backend.stat_with_checksums("mine.bin")
        backend.set_headers("mine.bin", content_type="application/x-mine", cache_control="no-store", if_match=None)
        after = backend.stat_with_checksums("mine.bin")
        assert after.blake3 == "ab" * 32 and after.mtime == 1.5
        if any_s3.name == "rclone":  # rclone serve s3 keeps no checksum through CopyObject; the MD5 ETag stays
            assert after.checksums == {"md5": before.checksums["md5"]}
        else:
            assert after.checksums == before.checksums
            assert "crc64nvme" in after.checksums or any_s3.name == "moto"  # moto keeps no CRC64NVME at all
        head = any_s3.client().head_object(Bucket=bucket, Key="mine.bin")
        assert (head["ContentType"], head["CacheControl"]) == ("application/x-mine", "no-store")
        assert b"".join(backend.read("mine.bin")) == data
    finally:
        backend.close()
        any_s3.delete_bucket(bucket)
