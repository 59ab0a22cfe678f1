"""Content-Type and Cache-Control of a GCS object changed in place through the JSON API's objects.patch, read back
with a plain JSON-API GET (new headers; the same bytes, hashes and user metadata). fake-gcs-server is the third-party
JSON API; the suite's own server (tests/gcs_json_objects.py) does what fake-gcs-server's PATCH does not: null clears a
field, preconditions answer 412. The OAuth token comes from a token endpoint of the test's own
(tests/oauth_token_server.py) that checks the JWT's RS256 signature and claims; the JSON requests are seen to carry
the token it handed out."""

from __future__ import annotations

import json
import logging
import os
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import quote

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from sdgui.core import errors
from sdgui.core.backends.factory import backend_for_config
from sdgui.core.backends.gcs_oauth import EARLY_REFRESH_S, READ_WRITE_SCOPE
from sdgui.core.volumes import VolumeConfig
from tests.cloud_servers import FakeGcs, GcsXml, gcs_service_account
from tests.copying import add_gcs_volume
from tests.oauth_token_server import OAuthTokenServer, TokenAuthority
from tests.providers.common import open_backend
from tests.servers import free_port

EMAIL = "sdgui-edit@project.iam.gserviceaccount.com"


def json_get(endpoint: str, bucket: str, name: str) -> dict[str, Any]:
    """The object's resource as any JSON-API client reads it."""
    url = f"{endpoint}/storage/v1/b/{bucket}/o/{quote(name, safe='')}"
    with urllib.request.urlopen(url, timeout=10) as response:
        return dict(json.loads(response.read()))


def json_patch(endpoint: str, bucket: str, name: str, body: dict[str, Any]) -> None:
    request = urllib.request.Request(
        f"{endpoint}/storage/v1/b/{bucket}/o/{quote(name, safe='')}",
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Content-Type": "application/json"},
    )
    urllib.request.urlopen(request, timeout=10).close()


def media(endpoint: str, bucket: str, name: str) -> bytes:
    url = f"{endpoint}/download/storage/v1/b/{bucket}/o/{quote(name, safe='')}?alt=media"
    with urllib.request.urlopen(url, timeout=10) as response:
        return bytes(response.read())


def xml_put(gcs_xml: GcsXml, bucket: str, key: str, data: bytes, headers: dict[str, str]) -> None:
    request = urllib.request.Request(f"{gcs_xml.endpoint}/{bucket}/{key}", data=data, method="PUT", headers=headers)
    urllib.request.urlopen(request, timeout=10).close()


def test_fake_gcs_server_objects_take_new_headers_and_keep_bytes_and_metadata(fake_gcs: FakeGcs) -> None:
    bucket = fake_gcs.new_bucket()
    data = os.urandom(20_000)
    fake_gcs.upload(bucket, "site/index.html", data)
    json_patch(
        fake_gcs.endpoint, bucket, "site/index.html", {"contentType": "text/plain", "metadata": {"owner": "ops"}}
    )
    before = json_get(fake_gcs.endpoint, bucket, "site/index.html")
    add_gcs_volume(fake_gcs.endpoint, bucket, "fakegcs")
    backend = open_backend("fakegcs")
    try:
        shown = backend.properties("site/index.html")
        assert shown.editable and shown.content_type == "text/plain" and shown.cache_control is None
        assert not any("cannot be changed" in note for note in shown.notes)

        changed = backend.set_headers(
            "site/index.html", content_type="text/html; charset=utf-8", cache_control="public, max-age=600",
            if_match=shown.entry.etag,
        )  # fmt: skip
        assert (changed.content_type, changed.cache_control) == ("text/html; charset=utf-8", "public, max-age=600")
        after = json_get(fake_gcs.endpoint, bucket, "site/index.html")
        assert (after["contentType"], after["cacheControl"]) == ("text/html; charset=utf-8", "public, max-age=600")
        assert after["metadata"] == {"owner": "ops"}
        assert (after["md5Hash"], after["crc32c"], after["size"]) == (before["md5Hash"], before["crc32c"], "20000")
        assert media(fake_gcs.endpoint, bucket, "site/index.html") == data

        # Other bytes written since the properties were read: refused, and the new object keeps its headers.
        fake_gcs.upload(bucket, "site/index.html", b"rewritten")
        with pytest.raises(errors.ConflictError) as stale:
            backend.set_headers("site/index.html", content_type="x/y", cache_control=None, if_match=shown.entry.etag)
        assert "fakegcs:site/index.html" in str(stale.value)
        assert json_get(fake_gcs.endpoint, bucket, "site/index.html").get("contentType") != "x/y"

        with pytest.raises(errors.NotFoundError) as missing:
            backend.set_headers("site/gone.html", content_type="text/html", cache_control=None, if_match=None)
        assert "fakegcs:site/gone.html" in str(missing.value)
    finally:
        backend.close()


def test_an_empty_field_removes_the_header(gcs_xml: GcsXml, gcs_bucket: str) -> None:
    data = b"body\n" * 100
    xml_put(gcs_xml, gcs_bucket, "a.css", data, {"Content-Type": "text/css", "Cache-Control": "no-store",
                                                 "x-goog-meta-owner": "web"})  # fmt: skip
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    backend = open_backend("gcs")
    try:
        shown = backend.properties("a.css")
        assert (shown.content_type, shown.cache_control, shown.editable) == ("text/css", "no-store", True)
        changed = backend.set_headers("a.css", content_type="text/css", cache_control="", if_match=shown.entry.etag)
        assert changed.cache_control is None
        resource = json_get(gcs_xml.endpoint, gcs_bucket, "a.css")
        assert "cacheControl" not in resource and resource["contentType"] == "text/css"
        assert resource["metadata"] == {"owner": "web"} and resource["metageneration"] == "2"
        backend.set_headers("a.css", content_type=None, cache_control="max-age=5", if_match=None)
        resource = json_get(gcs_xml.endpoint, gcs_bucket, "a.css")
        assert "contentType" not in resource and resource["cacheControl"] == "max-age=5"
        assert gcs_xml.server.state.buckets[gcs_bucket]["a.css"].data == data
        # disable_oauth: no token goes with the requests.
        assert {auth for _, b, _, auth in gcs_xml.server.state.json_requests if b == gcs_bucket} == {None}
    finally:
        backend.close()


def test_a_write_between_the_read_and_the_patch_is_a_conflict(gcs_xml: GcsXml, gcs_bucket: str) -> None:
    """The PATCH is conditional on the generation and metageneration just read: the service refuses it (412)."""
    xml_put(gcs_xml, gcs_bucket, "race.txt", b"first", {"Content-Type": "text/plain"})
    add_gcs_volume(gcs_xml.endpoint, gcs_bucket)
    backend = open_backend("gcs")

    def other_writer(bucket: str, name: str) -> None:
        gcs_xml.server.state.on_patch = None
        xml_put(gcs_xml, bucket, name, b"second", {"Content-Type": "application/json"})

    try:
        shown = backend.properties("race.txt")
        gcs_xml.server.state.on_patch = other_writer
        with pytest.raises(errors.ConflictError) as raised:
            backend.set_headers("race.txt", content_type="text/html", cache_control=None, if_match=shown.entry.etag)
        assert raised.value.status == 412 and "gcs:race.txt" in str(raised.value)
        stored = gcs_xml.server.state.buckets[gcs_bucket]["race.txt"]
        assert (stored.data, stored.content_type) == (b"second", "application/json")  # the other write stands
    finally:
        gcs_xml.server.state.on_patch = None
        backend.close()


def _key_account(endpoint: str, token_uri: str, key: rsa.RSAPrivateKey) -> str:
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    account = {
        **gcs_service_account(endpoint),
        "type": "service_account",
        "client_email": EMAIL,
        "private_key": pem,
        "private_key_id": "key-1",
        "token_uri": token_uri,
    }
    del account["disable_oauth"]
    return json.dumps(account)


def test_a_volume_with_a_key_patches_with_a_token_from_the_jwt_bearer_flow(
    gcs_xml: GcsXml, gcs_bucket: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    xml_put(gcs_xml, gcs_bucket, "k/page.html", b"<p>hi</p>", {"Content-Type": "text/plain"})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    authority = TokenAuthority(key.public_key(), EMAIL, "key-1")
    with OAuthTokenServer(authority) as token_server:
        config = VolumeConfig("gcskey", "gcs", bucket=gcs_bucket, allow_http=True)
        backend = backend_for_config(config, secret=_key_account(gcs_xml.endpoint, token_server.token_uri, key))
        try:
            shown = backend.properties("k/page.html")
            assert shown.editable and shown.storage_class == "STANDARD"
            backend.set_headers("k/page.html", content_type="text/html", cache_control="no-cache", if_match=None)
            backend.set_headers("k/page.html", content_type="text/html", cache_control="max-age=9", if_match=None)
            [grant] = authority.grants  # one token, cached for the second change
            assert grant.header == {"alg": "RS256", "typ": "JWT", "kid": "key-1"}
            assert grant.claims["iss"] == EMAIL and grant.claims["aud"] == token_server.token_uri
            assert grant.claims["scope"] == READ_WRITE_SCOPE
            assert grant.claims["exp"] - grant.claims["iat"] == 3600
            requests = [r for r in gcs_xml.server.state.json_requests if r[1] == gcs_bucket]
            assert [method for method, *_ in requests] == ["GET", "PATCH", "GET", "PATCH"]
            assert {auth for *_, auth in requests} == {f"Bearer {grant.token}"}
            resource = json_get(gcs_xml.endpoint, gcs_bucket, "k/page.html")
            assert (resource["contentType"], resource["cacheControl"]) == ("text/html", "max-age=9")
            assert "GCS JSON API PATCH" in caplog.text and grant.token not in caplog.text

            # The service stops taking the token (revoked): a fresh one is fetched and the change still lands.
            gcs_xml.server.state.refused_authorizations.add(f"Bearer {grant.token}")
            backend.set_headers("k/page.html", content_type="text/html", cache_control="max-age=7", if_match=None)
            assert len(authority.grants) == 2
            assert json_get(gcs_xml.endpoint, gcs_bucket, "k/page.html")["cacheControl"] == "max-age=7"

        finally:
            backend.close()
        # A token that lives less than the early-refresh margin is fetched again for the next request.
        authority.expires_in = int(EARLY_REFRESH_S) - 1
        backend = backend_for_config(config, secret=_key_account(gcs_xml.endpoint, token_server.token_uri, key))
        try:
            backend.set_headers("k/page.html", content_type="text/html", cache_control="a", if_match=None)
            backend.set_headers("k/page.html", content_type="text/html", cache_control="b", if_match=None)
            requests = [r for r in gcs_xml.server.state.json_requests if r[1] == gcs_bucket]
            assert len(authority.grants) == 6  # GET and PATCH each asked for a fresh one
            assert [r[3] for r in requests[-4:]] == [f"Bearer {g.token}" for g in authority.grants[2:]]
        finally:
            backend.close()


def test_a_key_the_token_endpoint_refuses_is_a_credentials_error(gcs_xml: GcsXml, gcs_bucket: str) -> None:
    xml_put(gcs_xml, gcs_bucket, "x.txt", b"x", {"Content-Type": "text/plain"})
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    authority = TokenAuthority(other.public_key(), EMAIL, "key-1")  # the endpoint knows another key
    with OAuthTokenServer(authority) as token_server:
        secret = _key_account(gcs_xml.endpoint, token_server.token_uri, key)
        backend = backend_for_config(VolumeConfig("gcskey", "gcs", bucket=gcs_bucket, allow_http=True), secret=secret)
        try:
            with pytest.raises(errors.CredentialsError) as refused:
                backend.set_headers("x.txt", content_type="a/b", cache_control=None, if_match=None)
        finally:
            backend.close()
    message = str(refused.value)
    assert "gcskey:x.txt" in message and "invalid_grant" in message and authority.refusals
    assert "PRIVATE KEY" not in message and json.loads(secret)["private_key"][40:80] not in message
    assert [r for r in gcs_xml.server.state.json_requests if r[1] == gcs_bucket] == []  # nothing went without a token
    assert gcs_xml.server.state.buckets[gcs_bucket]["x.txt"].content_type == "text/plain"


@contextmanager
def answering(status: int, reason: str) -> Iterator[str]:
    """A server that answers every request with ``status`` and a JSON-API error body; yields its base URL."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

        def _answer(self) -> None:
            body = json.dumps({"error": {"code": status, "message": "no", "errors": [{"reason": reason}]}}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_PATCH = do_HEAD = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


@pytest.mark.parametrize(
    ("status", "reason", "kind"),
    [
        (401, "authError", errors.CredentialsError),
        (403, "forbidden", errors.PermissionDeniedError),
        (404, "notFound", errors.NotFoundError),
        (500, "backendError", errors.ServiceError),
        (503, "backendError", errors.ThrottledError),
    ],
)
def test_json_api_answers_are_classified_by_status(status: int, reason: str, kind: type[errors.SdError]) -> None:
    with answering(status, reason) as endpoint:
        add_gcs_volume(endpoint, "b", "refusing")
        backend = open_backend("refusing")
        try:
            with pytest.raises(kind) as raised:
                backend.set_headers("d/o.txt", content_type="a/b", cache_control=None, if_match=None)
        finally:
            backend.close()
    assert type(raised.value) is kind and raised.value.status == status
    assert "refusing:d/o.txt" in str(raised.value)


def test_an_unreachable_json_api_is_a_network_error() -> None:
    add_gcs_volume(f"http://127.0.0.1:{free_port()}", "b", "nowhere")
    backend = open_backend("nowhere")
    try:
        with pytest.raises(errors.NetworkError) as raised:
            backend.set_headers("o.txt", content_type="a/b", cache_control=None, if_match=None)
    finally:
        backend.close()
    assert raised.value.transport == "connect" and "nowhere:o.txt" in str(raised.value)
