"""GCS's JSON API for what obstore's XML API calls cannot do: objects.get for an object's generation and
metageneration, and objects.patch to change its Content-Type and Cache-Control in place (bytes, user metadata and
the other headers stay). Requests carry an OAuth2 token from the volume's service account key (gcs_oauth), or none
where the volume says ``disable_oauth`` (local test servers). Failures are classified by HTTP status."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import urllib3

from sdgui.core import errors
from sdgui.core.backends.gcs_oauth import AccessTokens, ServiceAccountKey, json_object, transport_of
from sdgui.core.backends.http_policy import USER_AGENT
from sdgui.core.backends.service_errors import ServiceFailure, to_error

log = logging.getLogger(__name__)

JSON_API_BASE = "https://storage.googleapis.com"
"""Where the JSON API answers unless the volume names a base URL of its own (``endpoint`` or ``gcs_base_url``)."""


class GcsJsonApi:
    """objects.get / objects.patch on one bucket. ``tokens`` None: requests go without Authorization."""

    def __init__(
        self,
        volume: str,
        bucket: str,
        *,
        base_url: str,
        tokens_from: ServiceAccountKey | None,
        timeout_s: float,
        allow_http: bool,
    ) -> None:
        self.volume = volume
        self.bucket = bucket
        self.base_url = base_url.rstrip("/")
        self.allow_http = allow_http
        self._timeout = urllib3.Timeout(connect=timeout_s, read=timeout_s)
        self._http = urllib3.PoolManager(num_pools=2, maxsize=2, headers={"User-Agent": USER_AGENT})
        self.tokens = AccessTokens(tokens_from, self._http, self._timeout) if tokens_from is not None else None

    def get(self, name: str, path: str) -> dict[str, Any]:
        """The object's resource (generation, metageneration, contentType, cacheControl, metadata, hashes)."""
        return self._call("GET", name, path)

    def patch(self, name: str, path: str, changes: Mapping[str, str | None], *, resource: Mapping[str, Any]) -> None:
        """Set the fields in ``changes`` (None clears one), only if the object is still the ``resource`` read
        before: same generation (bytes) and metageneration (metadata); otherwise ConflictError."""
        preconditions = {
            query: str(resource[field])
            for query, field in (("ifGenerationMatch", "generation"), ("ifMetagenerationMatch", "metageneration"))
            if resource.get(field) not in (None, "")
        }
        self._call("PATCH", name, path, body=json.dumps(dict(changes)).encode(), query=preconditions)

    def close(self) -> None:
        self._http.clear()

    # -- plumbing -----------------------------------------------------------------------------------------------
    def _url(self, name: str, query: Mapping[str, str]) -> str:
        url = f"{self.base_url}/storage/v1/b/{quote(self.bucket, safe='')}/o/{quote(name, safe='')}"
        return f"{url}?{urlencode(query)}" if query else url

    def _check_scheme(self, url: str, path: str) -> None:
        scheme = urlsplit(url).scheme
        if scheme != "https" and not (scheme == "http" and self.allow_http):
            raise errors.ConfigError(
                f"{url.split('?')[0]} is not https (allow_http is off for this volume)", volume=self.volume, path=path
            )

    def _call(
        self, method: str, name: str, path: str, *, body: bytes | None = None, query: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        url = self._url(name, query or {})
        self._check_scheme(url, path)
        if self.tokens is not None:
            self._check_scheme(self.tokens.key.token_uri, path)
        status, answer = self._send(method, url, name, path, body)
        if status == 401 and self.tokens is not None:
            # A token the service no longer takes (revoked, or the clocks disagree): once more with a fresh one.
            self.tokens.forget()
            status, answer = self._send(method, url, name, path, body)
        if status == 200:
            return answer
        raise self._refused(method, status, answer, path)

    def _send(self, method: str, url: str, name: str, path: str, body: bytes | None) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.tokens is not None:
            try:
                headers["Authorization"] = f"Bearer {self.tokens.token()}"
            except errors.SdError as exc:
                raise exc.at(volume=self.volume, path=path) from None
        try:
            response = self._http.request(
                method, url, body=body, headers=headers, timeout=self._timeout, retries=False, redirect=False
            )
        except urllib3.exceptions.HTTPError as exc:
            failure = ServiceFailure(summary=f"{type(exc).__name__} ({method} JSON API)", transport=transport_of(exc))
            raise to_error(failure, volume=self.volume, path=path) from None
        log.debug("GCS JSON API %s %s: %d", method, name, response.status)
        return response.status, json_object(response.data)

    def _refused(self, method: str, status: int, answer: Mapping[str, Any], path: str) -> errors.SdError:
        found = answer.get("error")
        error: dict[str, Any] = found if isinstance(found, dict) else {}
        reasons = [e.get("reason") for e in error.get("errors", []) if isinstance(e, dict)]
        reason = next((str(r) for r in reasons if r), None)
        if status == 401 and self.tokens is not None:
            self.tokens.forget()  # refused twice: the next attempt starts with another
        if status == 412:
            return errors.ConflictError(
                "the object changed since its properties were read", volume=self.volume, path=path, status=412
            )
        if status == 404:
            return errors.NotFoundError("no such object", volume=self.volume, path=path, status=404)
        summary = f"HTTP {status}{f' {reason}' if reason else ''} ({method} JSON API)"
        return to_error(ServiceFailure(summary=summary, status=status, code=reason), volume=self.volume, path=path)
