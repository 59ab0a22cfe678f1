"""Share links: a presigned GET that anyone can download the object with, for as long as was chosen; a clear error
where the volume's credentials cannot sign one. Each link is fetched with a plain urllib GET from the real server."""

from __future__ import annotations

import hashlib
import json
import os
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from sdgui.core import errors
from sdgui.core.backends.base import SHARE_LINK_LIFETIMES
from sdgui.core.backends.factory import backend_for_config
from sdgui.core.backends.local import LocalBackend
from sdgui.core.volumes import VolumeConfig
from tests.cloud_servers import Azurite, GcsXml, gcs_service_account
from tests.copying import add_azure_volume, add_gcs_volume, add_volume
from tests.providers.common import open_backend
from tests.servers import S3Server

LIFETIMES = [lifetime for _, lifetime in SHARE_LINK_LIFETIMES]


def _get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


@pytest.fixture(params=["moto", "seaweedfs"])
def signing_server(request: pytest.FixtureRequest) -> S3Server:
    server: S3Server = request.getfixturevalue({"moto": "moto_s3", "seaweedfs": "seaweed_s3"}[request.param])
    server.ensure_running()
    return server


def test_an_s3_share_link_downloads_the_object_for_the_lifetime_chosen(signing_server: S3Server) -> None:
    bucket = signing_server.new_bucket()
    data = os.urandom(70_000)
    signing_server.client().put_object(Bucket=bucket, Key="docs/report 1.pdf", Body=data)
    add_volume(signing_server, bucket)
    backend = open_backend("cloud")
    try:
        for lifetime in LIFETIMES:
            url = backend.share_link("docs/report 1.pdf", lifetime)
            assert url is not None
            assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == [str(int(lifetime.total_seconds()))]
            assert _get(url) == data  # no credentials of ours travel with a plain GET
        with pytest.raises(urllib.error.HTTPError) as refused:  # the signature covers the key
            _get(backend.share_link("docs/report 1.pdf", LIFETIMES[0]).replace("report%201", "report%202"))  # type: ignore[union-attr]
        assert refused.value.code in (403, 404)
        refused.value.close()
    finally:
        backend.close()
        signing_server.delete_bucket(bucket)


def test_an_anonymous_s3_volume_cannot_sign(moto_s3: S3Server) -> None:
    config = VolumeConfig("public", "s3", bucket="anything", endpoint=moto_s3.endpoint, allow_http=True)
    backend = backend_for_config(config)
    with pytest.raises(errors.ConfigError) as raised:
        backend.share_link("a.txt", LIFETIMES[0])
    assert "share links need an access key" in str(raised.value) and "public:a.txt" in str(raised.value)


def test_an_azure_share_link_downloads_the_blob_until_its_expiry(azurite: Azurite, azure_container: str) -> None:
    data = os.urandom(50_000)
    azurite.blob(azure_container, "shared/clip.bin").upload_blob(data)
    add_azure_volume(azurite, azure_container)
    backend = open_backend("azure")
    try:
        for lifetime in LIFETIMES:
            url = backend.share_link("shared/clip.bin", lifetime)
            assert url is not None
            query = parse_qs(urlsplit(url).query)
            assert query["sp"] == ["r"]  # read only
            expiry = datetime.strptime(query["se"][0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
            assert abs(expiry - (datetime.now(UTC) + lifetime)) < timedelta(minutes=1)
            assert _get(url) == data
    finally:
        backend.close()


def test_an_azure_volume_with_a_sas_token_cannot_sign(azurite: Azurite, azure_container: str) -> None:
    from tests.cloud_servers import azurite_account_sas

    add_azure_volume(azurite, azure_container, "azsas", secret=azurite_account_sas(), sas=True)
    with pytest.raises(errors.ConfigError) as raised:
        open_backend("azsas").share_link("x.bin", LIFETIMES[1])
    assert "share links need the account key" in str(raised.value) and "azsas:x.bin" in str(raised.value)


def gcs_key_volume(gcs_xml: GcsXml, bucket: str) -> tuple[VolumeConfig, str, rsa.RSAPrivateKey]:
    """A GCS volume whose service account JSON holds a real private key (as a downloaded key file does)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        **gcs_service_account(gcs_xml.endpoint),
        "client_email": "sdgui-test@project.iam.gserviceaccount.com",
        "private_key": pem,
        "private_key_id": "k1",
    }
    del account["disable_oauth"]
    return VolumeConfig("gcskey", "gcs", bucket=bucket, allow_http=True), json.dumps(account), key


def _check_goog4_signature(url: str, key: rsa.RSAPrivateKey) -> None:
    """Verify a V4 signed URL as GCS does (cloud.google.com/storage/docs/authentication/signatures). obstore signs
    the host GCS answers at, storage.googleapis.com, whatever base URL the volume sets (here a local server)."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    signature = bytes.fromhex(query.pop("X-Goog-Signature")[0])
    canonical_query = "&".join(
        f"{quote(name, safe='-_.~')}={quote(values[0], safe='-_.~')}" for name, values in sorted(query.items())
    )
    canonical_request = "\n".join(
        ["GET", parts.path, canonical_query, "host:storage.googleapis.com\n", "host", "UNSIGNED-PAYLOAD"]
    )
    scope = query["X-Goog-Credential"][0].split("/", 1)[1]
    string_to_sign = "\n".join(
        ["GOOG4-RSA-SHA256", query["X-Goog-Date"][0], scope, hashlib.sha256(canonical_request.encode()).hexdigest()]
    )
    key.public_key().verify(signature, string_to_sign.encode(), padding.PKCS1v15(), hashes.SHA256())


def test_a_gcs_share_link_is_a_v4_signed_url_for_the_object_and_expiry(gcs_xml: GcsXml, gcs_bucket: str) -> None:
    """The suite's GCS server does not check signatures, so the signature is checked here with the key's public half
    (GCS's own algorithm), and the URL then fetched from the server."""
    data = os.urandom(30_000)
    put = urllib.request.Request(f"{gcs_xml.endpoint}/{gcs_bucket}/pics/cat.jpg", data=data, method="PUT")
    urllib.request.urlopen(put, timeout=10).close()
    config, secret, key = gcs_key_volume(gcs_xml, gcs_bucket)
    backend = backend_for_config(config, secret=secret)
    for lifetime in LIFETIMES:
        url = backend.share_link("pics/cat.jpg", lifetime)
        assert url is not None
        parts = urlsplit(url)
        query = parse_qs(parts.query)
        assert parts.path == f"/{gcs_bucket}/pics/cat.jpg"
        assert query["X-Goog-Algorithm"] == ["GOOG4-RSA-SHA256"]
        assert query["X-Goog-Expires"] == [str(int(lifetime.total_seconds()))]
        assert query["X-Goog-Credential"][0].startswith("sdgui-test@project.iam.gserviceaccount.com/")
        _check_goog4_signature(url, key)
        assert _get(url) == data
    tampered = url.replace("cat.jpg", "dog.jpg")
    with pytest.raises(InvalidSignature):
        _check_goog4_signature(tampered, key)


def test_a_gcs_volume_without_a_private_key_cannot_sign(gcs_xml: GcsXml, gcs_bucket: str) -> None:
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    with pytest.raises(errors.ConfigError) as raised:
        open_backend("gcs").share_link("a.txt", LIFETIMES[2])
    assert "share links need a service account key" in str(raised.value) and "gcs:a.txt" in str(raised.value)


def test_local_files_have_no_share_link(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("x")
    assert LocalBackend(tmp_path).share_link("a.txt", LIFETIMES[0]) is None


def test_the_lifetimes_offered() -> None:
    assert [(name, int(t.total_seconds())) for name, t in SHARE_LINK_LIFETIMES] == [
        ("1 hour", 3600),
        ("1 day", 86400),
        ("7 days", 604800),
    ]
