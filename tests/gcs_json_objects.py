"""GCS's JSON API objects.get and objects.patch on the suite's own server (tests/gcs_xml_server.py), as Google's JSON
API reference describes them (cloud.google.com/storage/docs/json_api/v1/objects/patch), for what fake-gcs-server's
PATCH does not do: a field set to null is cleared (fake-gcs-server skips empty values), ``ifGenerationMatch`` /
``ifMetagenerationMatch`` that do not hold answer 412 conditionNotMet (fake-gcs-server ignores them), and a patch
raises the metageneration while bytes, generation and user metadata stay. Authorization is not checked here (the
volumes say disable_oauth) but every request's header is recorded in ``GcsState.json_requests``, and one listed in
``GcsState.refused_authorizations`` (a token the test revoked) is answered 401 authError."""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

if TYPE_CHECKING:
    from tests.gcs_xml_server import StoredObject, _Handler

JSON_PREFIX = "/storage/v1/b/"
PATCHABLE = {"contentType": "content_type", "cacheControl": "cache_control"}


def object_resource(bucket: str, name: str, obj: StoredObject) -> dict[str, Any]:
    """The object as objects.get answers: numbers as strings, hashes in base64, absent fields left out."""
    resource: dict[str, Any] = {
        "kind": "storage#object",
        "bucket": bucket,
        "name": name,
        "size": str(len(obj.data)),
        "generation": str(obj.generation),
        "metageneration": str(obj.metageneration),
        "crc32c": obj.crc32c_b64,
        "storageClass": "STANDARD",
        "metadata": dict(obj.metadata),
    }
    if obj.md5 is not None:
        resource["md5Hash"] = base64.b64encode(obj.md5).decode()
    for field, attribute in PATCHABLE.items():
        if getattr(obj, attribute) is not None:
            resource[field] = getattr(obj, attribute)
    return resource


def _error(handler: _Handler, status: int, reason: str, message: str) -> None:
    body = {"error": {"code": status, "message": message, "errors": [{"reason": reason, "message": message}]}}
    handler._send(status, json.dumps(body).encode(), {"Content-Type": "application/json; charset=UTF-8"})


def answer(handler: _Handler, method: str) -> None:
    """objects.get (GET) or objects.patch (PATCH) of ``/storage/v1/b/{bucket}/o/{object}``."""
    url = urlsplit(handler.path)
    bucket, _, tail = url.path[len(JSON_PREFIX) :].partition("/o/")
    bucket, name, query = unquote(bucket), unquote(tail), parse_qs(url.query)
    state = handler.state
    body = handler._body()
    authorization = handler.headers.get("Authorization")
    state.json_requests.append((method, bucket, name, authorization))
    if authorization is not None and authorization in state.refused_authorizations:
        _error(handler, 401, "authError", "Invalid Credentials")
        return
    if method == "PATCH" and state.on_patch is not None:
        state.on_patch(bucket, name)  # a test's other writer, arriving between sdgui's read and its patch
    with state.lock:
        obj = state.buckets.get(bucket, {}).get(name)
        if obj is None:
            _error(handler, 404, "notFound", f"No such object: {bucket}/{name}")
            return
        if method == "PATCH":
            for parameter, current in (
                ("ifGenerationMatch", obj.generation),
                ("ifMetagenerationMatch", obj.metageneration),
            ):
                if parameter in query and query[parameter][0] != str(current):
                    _error(
                        handler,
                        412,
                        "conditionNotMet",
                        "At least one of the pre-conditions you specified did not hold.",
                    )
                    return
            changes = json.loads(body or b"{}")
            for field, attribute in PATCHABLE.items():
                if field in changes:
                    setattr(obj, attribute, changes[field])  # null clears it
            obj.metageneration += 1
        resource = object_resource(bucket, name, obj)
    handler._send(200, json.dumps(resource).encode(), {"Content-Type": "application/json; charset=UTF-8"})
