"""A small Google Cloud Storage XML-API server on loopback, for the GCS writes no installable emulator accepts.

obstore writes GCS through the XML API (``PUT /bucket/key``); fake-gcs-server answers those with 400 and the other
emulators send no ETag. This server answers as Google's XML API reference describes, as far as obstore uses it:

- ``PUT /b/k``: ETag = the quoted hex MD5 of the body, ``x-goog-hash: crc32c=…,md5=…`` (base64), ``x-goog-meta-*``
  stored, ``x-goog-if-generation-match: 0`` → 412 when the object exists; with ``x-goog-copy-source: b/k`` a copy.
- ``GET``/``HEAD /b/k``: one byte range (206 with ``Content-Range``, 416 past the end), ``If-Match`` /
  ``If-None-Match`` (412 / 304), the same headers as the PUT.
- ``DELETE /b/k`` (404 NoSuchKey when absent), ``GET /b?list-type=2`` (prefix, delimiter, start-after,
  continuation-token, max-keys: S3's ListBucketResult, which GCS's XML API also speaks).
- Multipart (XML API): ``POST ?uploads``, ``PUT ?partNumber&uploadId``, ``POST ?uploadId`` (complete: the object
  is composite, so it has a crc32c but no MD5, and its ETag is not an MD5), ``DELETE ?uploadId`` (abort).

- The JSON API's objects.get and objects.patch (``/storage/v1/b/B/o/K``): tests/gcs_json_objects.py.

Errors are ``<Error><Code>…</Code><Message>…</Message></Error>`` with GCS's codes. No authentication: obstore is
told ``disable_oauth`` (see tests/cloud_servers.py). Everything is kept in memory, so test files stay small.
"""

from __future__ import annotations

import base64
import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit
from xml.etree import ElementTree
from xml.sax.saxutils import escape

import crc32c

from tests import gcs_json_objects


@dataclass
class StoredObject:
    """One object as GCS keeps it."""

    data: bytes
    metadata: dict[str, str]
    content_type: str | None
    generation: int
    modified: float
    md5: bytes | None
    """The MD5 of the bytes; None for a composite object (completed from a multipart upload)."""
    etag: str
    cache_control: str | None = None
    metageneration: int = 1

    @property
    def crc32c_b64(self) -> str:
        return base64.b64encode(crc32c.crc32c(self.data).to_bytes(4, "big")).decode()

    @property
    def goog_hash(self) -> str:
        parts = [f"crc32c={self.crc32c_b64}"]
        if self.md5 is not None:
            parts.append(f"md5={base64.b64encode(self.md5).decode()}")
        return ",".join(parts)


@dataclass
class OpenUpload:
    """An XML-API multipart upload that was initiated and neither completed nor aborted."""

    bucket: str
    key: str
    metadata: dict[str, str]
    content_type: str
    parts: dict[int, bytes] = field(default_factory=dict)


class GcsState:
    """The buckets, objects and open uploads of one server; tests read them directly."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.buckets: dict[str, dict[str, StoredObject]] = {}
        self.uploads: dict[str, OpenUpload] = {}
        self._generation = int(time.time() * 1_000_000)
        self.json_requests: list[tuple[str, str, str, str | None]] = []
        """(method, bucket, object, Authorization) of each JSON-API request."""
        self.refused_authorizations: set[str] = set()
        """Authorization values the JSON API answers 401 (revoked tokens)."""
        self.on_patch: Callable[[str, str], None] | None = None
        """Called with (bucket, object) as a PATCH arrives, before its preconditions are checked."""

    def next_generation(self) -> int:
        self._generation += 1
        return self._generation

    def create_bucket(self, name: str) -> str:
        with self.lock:
            self.buckets.setdefault(name, {})
        return name

    def open_uploads(self, bucket: str) -> list[str]:
        with self.lock:
            return [u.key for u in self.uploads.values() if u.bucket == bucket]


class _Handler(BaseHTTPRequestHandler):
    server: GcsXmlServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:  # quiet: the test output is the record
        pass

    # -- plumbing -------------------------------------------------------------------------------------------

    @property
    def state(self) -> GcsState:
        return self.server.state

    def _target(self) -> tuple[str, str, dict[str, list[str]]]:
        url = urlsplit(self.path)
        bucket, _, key = url.path.lstrip("/").partition("/")
        return unquote(bucket), unquote(key), parse_qs(url.query, keep_blank_values=True)

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _send(self, status: int, body: bytes = b"", headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _xml(self, status: int, xml: str, headers: dict[str, str] | None = None) -> None:
        body = f'<?xml version="1.0" encoding="UTF-8"?>{xml}'.encode()
        self._send(status, body, {"Content-Type": "application/xml; charset=UTF-8", **(headers or {})})

    def _error(self, status: int, code: str, message: str) -> None:
        self._xml(status, f"<Error><Code>{code}</Code><Message>{escape(message)}</Message></Error>")

    def _bucket(self, name: str) -> dict[str, StoredObject] | None:
        objects = self.state.buckets.get(name)
        if objects is None:
            self._error(404, "NoSuchBucket", "The specified bucket does not exist.")
        return objects

    def _object_headers(self, obj: StoredObject) -> dict[str, str]:
        headers = {
            "ETag": obj.etag,
            "Last-Modified": formatdate(obj.modified, usegmt=True),
            "Content-Type": obj.content_type or "application/octet-stream",
            "x-goog-hash": obj.goog_hash,
            "x-goog-generation": str(obj.generation),
            "x-goog-metageneration": str(obj.metageneration),
            "x-goog-stored-content-length": str(len(obj.data)),
            "x-goog-stored-content-encoding": "identity",
            "x-goog-storage-class": "STANDARD",
            "Accept-Ranges": "bytes",
        }
        if obj.md5 is None:
            headers["x-goog-component-count"] = "1"
        if obj.cache_control is not None:
            headers["Cache-Control"] = obj.cache_control
        headers.update({f"x-goog-meta-{k}": v for k, v in obj.metadata.items()})
        return headers

    def _user_metadata(self) -> dict[str, str]:
        prefix = "x-goog-meta-"
        return {k[len(prefix) :].lower(): v for k, v in self.headers.items() if k.lower().startswith(prefix)}

    def _store(self, bucket: str, key: str, obj: StoredObject) -> None:
        self.state.buckets[bucket][key] = obj

    def _new_object(self, data: bytes, metadata: dict[str, str], content_type: str) -> StoredObject:
        md5 = hashlib.md5(data).digest()
        generation = self.state.next_generation()
        cache_control = self.headers.get("Cache-Control")
        return StoredObject(data, metadata, content_type, generation, time.time(), md5, f'"{md5.hex()}"', cache_control)

    # -- verbs ----------------------------------------------------------------------------------------------

    def do_HEAD(self) -> None:
        self._get(head=True)

    def do_GET(self) -> None:
        if self.path.startswith(gcs_json_objects.JSON_PREFIX):
            gcs_json_objects.answer(self, "GET")
            return
        bucket, key, query = self._target()
        if not key:
            self._list(bucket, query)
        else:
            self._get(head=False)

    def _get(self, *, head: bool) -> None:
        bucket, key, _ = self._target()
        with self.state.lock:
            objects = self._bucket(bucket)
            if objects is None:
                return
            obj = objects.get(key)
        if obj is None:
            self._error(404, "NoSuchKey", "The specified key does not exist.")
            return
        # Compared without the quotes, which clients (obstore among them) may leave off, as S3 and GCS do.
        if_match = self.headers.get("If-Match")
        if if_match and if_match.strip().strip('"') not in (obj.etag.strip('"'), "*"):
            self._error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
            return
        if_none_match = self.headers.get("If-None-Match")
        if if_none_match and if_none_match.strip().strip('"') in (obj.etag.strip('"'), "*"):
            self._send(304, headers={"ETag": obj.etag})
            return
        headers = self._object_headers(obj)
        size = len(obj.data)
        wanted = self.headers.get("Range")
        if wanted is None:
            self._send(200, b"" if head else obj.data, {**headers, "Content-Length": str(size)})
            return
        span = _parse_range(wanted, size)
        if span is None:
            self._error(416, "InvalidRange", "The requested range cannot be satisfied.")
            return
        start, end = span
        body = obj.data[start : end + 1]
        headers.update({"Content-Range": f"bytes {start}-{end}/{size}", "Content-Length": str(len(body))})
        self._send(206, b"" if head else body, headers)

    def _list(self, bucket: str, query: dict[str, list[str]]) -> None:
        def arg(name: str, default: str = "") -> str:
            return query.get(name, [default])[0]

        prefix, delimiter = arg("prefix"), arg("delimiter")
        start_after = arg("continuation-token") or arg("start-after")
        max_keys = max(1, min(1000, int(arg("max-keys", "1000"))))
        with self.state.lock:
            objects = self._bucket(bucket)
            if objects is None:
                return
            keys = sorted(k for k in objects if k.startswith(prefix) and k > start_after)
            contents: list[tuple[str, StoredObject]] = []
            prefixes: list[str] = []
            last = ""
            for key in keys:
                if len(contents) + len(prefixes) >= max_keys:
                    break
                rest = key[len(prefix) :]
                if delimiter and delimiter in rest:
                    common = prefix + rest.split(delimiter, 1)[0] + delimiter
                    if common not in prefixes:
                        prefixes.append(common)
                else:
                    contents.append((key, objects[key]))
                last = key
            truncated = bool(keys) and last != keys[-1]
        rows = "".join(
            f"<Contents><Key>{escape(k)}</Key><Generation>{o.generation}</Generation>"
            f"<LastModified>{_iso(o.modified)}</LastModified><ETag>{escape(o.etag)}</ETag>"
            f"<Size>{len(o.data)}</Size><StorageClass>STANDARD</StorageClass></Contents>"
            for k, o in contents
        )
        rows += "".join(f"<CommonPrefixes><Prefix>{escape(p)}</Prefix></CommonPrefixes>" for p in prefixes)
        token = f"<NextContinuationToken>{escape(last)}</NextContinuationToken>" if truncated else ""
        self._xml(
            200,
            f"<ListBucketResult><Name>{escape(bucket)}</Name><Prefix>{escape(prefix)}</Prefix>"
            f"<KeyCount>{len(contents) + len(prefixes)}</KeyCount><MaxKeys>{max_keys}</MaxKeys>"
            f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>{rows}{token}</ListBucketResult>",
        )

    def do_PATCH(self) -> None:
        if self.path.startswith(gcs_json_objects.JSON_PREFIX):
            gcs_json_objects.answer(self, "PATCH")
        else:
            self._error(400, "InvalidArgument", "Unsupported PATCH.")

    def do_PUT(self) -> None:
        bucket, key, query = self._target()
        data = self._body()
        if "uploadId" in query:
            self._put_part(query, data)
            return
        content_type = self.headers.get("Content-Type") or "application/octet-stream"
        with self.state.lock:
            objects = self._bucket(bucket)
            if objects is None:
                return
            if self.headers.get("x-goog-if-generation-match") == "0" and key in objects:
                self._error(412, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold.")
                return
            source = self.headers.get("x-goog-copy-source")
            if source is not None:
                src_bucket, _, src_key = unquote(source).lstrip("/").partition("/")
                src = self.state.buckets.get(src_bucket, {}).get(src_key)
                if src is None:
                    self._error(404, "NoSuchKey", "The specified key does not exist.")
                    return
                # A copy keeps the source's metadata (x-goog-metadata-directive COPY, the default).
                obj = StoredObject(
                    src.data,
                    dict(src.metadata),
                    src.content_type,
                    self.state.next_generation(),
                    time.time(),
                    src.md5,
                    src.etag,
                )
                self._store(bucket, key, obj)
                body = (
                    f"<CopyObjectResult><LastModified>{_iso(obj.modified)}</LastModified>"
                    f"<ETag>{escape(obj.etag)}</ETag></CopyObjectResult>"
                )
                self._xml(200, body, {"x-goog-generation": str(obj.generation)})
                return
            expected_md5 = self.headers.get("Content-MD5")
            obj = self._new_object(data, self._user_metadata(), content_type)
            if expected_md5 and base64.b64decode(expected_md5) != obj.md5:
                self._error(400, "BadDigest", "The Content-MD5 you specified did not match what we received.")
                return
            self._store(bucket, key, obj)
        self._send(200, headers={**self._object_headers(obj), "Content-Length": "0"})

    def _put_part(self, query: dict[str, list[str]], data: bytes) -> None:
        upload_id, number = query["uploadId"][0], int(query.get("partNumber", ["0"])[0])
        with self.state.lock:
            upload = self.state.uploads.get(upload_id)
            if upload is None:
                self._error(404, "NoSuchUpload", "The requested upload was not found.")
                return
            upload.parts[number] = data
        md5 = hashlib.md5(data).digest()
        self._send(200, headers={"ETag": f'"{md5.hex()}"', "x-goog-hash": f"md5={base64.b64encode(md5).decode()}"})

    def do_POST(self) -> None:
        bucket, key, query = self._target()
        body = self._body()
        with self.state.lock:
            if self._bucket(bucket) is None:
                return
            if "uploads" in query:
                upload_id = uuid.uuid4().hex
                content_type = self.headers.get("Content-Type") or "application/octet-stream"
                self.state.uploads[upload_id] = OpenUpload(bucket, key, self._user_metadata(), content_type)
                self._xml(
                    200,
                    f"<InitiateMultipartUploadResult><Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key>"
                    f"<UploadId>{upload_id}</UploadId></InitiateMultipartUploadResult>",
                )
                return
            if "uploadId" in query:
                self._complete(bucket, key, query["uploadId"][0], body)
                return
        self._error(400, "InvalidArgument", "Unsupported POST.")

    def _complete(self, bucket: str, key: str, upload_id: str, body: bytes) -> None:
        upload = self.state.uploads.get(upload_id)
        if upload is None:
            self._error(404, "NoSuchUpload", "The requested upload was not found.")
            return
        listed = [
            (int(part.findtext("PartNumber") or 0), (part.findtext("ETag") or "").strip())
            for part in ElementTree.fromstring(body).iter("Part")
        ]
        numbers = [n for n, _ in listed]
        if numbers != sorted(numbers) or any(n not in upload.parts for n in numbers):
            self._error(400, "InvalidPart", "One or more of the specified parts could not be found.")
            return
        for number, etag in listed:
            if etag.strip('"') != hashlib.md5(upload.parts[number]).hexdigest():
                self._error(400, "InvalidPart", f"Part {number}'s ETag does not match.")
                return
        data = b"".join(upload.parts[n] for n in numbers)
        joined = hashlib.md5(b"".join(hashlib.md5(upload.parts[n]).digest() for n in numbers)).hexdigest()
        obj = StoredObject(
            data,
            upload.metadata,
            upload.content_type,
            self.state.next_generation(),
            time.time(),
            None,  # a composite object has no MD5, and its ETag is not one
            f'"{joined}-{len(numbers)}"',
        )
        self._store(bucket, key, obj)
        del self.state.uploads[upload_id]
        self._xml(
            200,
            f"<CompleteMultipartUploadResult><Location>/{escape(bucket)}/{escape(key)}</Location>"
            f"<Bucket>{escape(bucket)}</Bucket><Key>{escape(key)}</Key><ETag>{escape(obj.etag)}</ETag>"
            "</CompleteMultipartUploadResult>",
            {"x-goog-generation": str(obj.generation)},
        )

    def do_DELETE(self) -> None:
        bucket, key, query = self._target()
        self._body()
        with self.state.lock:
            objects = self._bucket(bucket)
            if objects is None:
                return
            if "uploadId" in query:
                if self.state.uploads.pop(query["uploadId"][0], None) is None:
                    self._error(404, "NoSuchUpload", "The requested upload was not found.")
                    return
                self._send(204)
                return
            if objects.pop(key, None) is None:
                self._error(404, "NoSuchKey", "The specified key does not exist.")
                return
        self._send(204)


def _parse_range(header: str, size: int) -> tuple[int, int] | None:
    """One ``bytes=a-b`` / ``bytes=a-`` / ``bytes=-n`` range as inclusive (start, end); None when unsatisfiable."""
    unit, _, spec = header.partition("=")
    if unit.strip() != "bytes" or "," in spec:
        return None
    first, _, last = spec.strip().partition("-")
    if not first:
        length = int(last)
        return (max(0, size - length), size - 1) if length and size else None
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    return (start, end) if start < size and start <= end else None


def _iso(timestamp: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(timestamp))


class GcsXmlServer(ThreadingHTTPServer):
    """The server on 127.0.0.1 and a free port; ``start()`` serves from a daemon thread, ``stop()`` ends it."""

    daemon_threads = True

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__((host, port), _Handler)
        self.state = GcsState()
        self._thread: threading.Thread | None = None

    @property
    def endpoint(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread = threading.Thread(target=self.serve_forever, name="gcs-xml-server", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=10)
            self._thread = None
        self.server_close()
