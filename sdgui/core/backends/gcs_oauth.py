"""An OAuth2 access token from a GCS service account key: the JWT-bearer flow (RFC 7523) Google documents for server
to server calls. A JWT with the account's email, the scope and the token endpoint as audience, signed RS256 with the
key's ``private_key``, is POSTed to the key's ``token_uri``; the access token that comes back is kept until shortly
before it expires. obstore keeps its own token to itself, so the JSON API calls of sdgui's own need this one.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import urllib3

from sdgui.core import errors
from sdgui.core.errors import Transport
from sdgui.core.secrets import register_secret

TOKEN_URI = "https://oauth2.googleapis.com/token"
"""Where a key without ``token_uri`` asks (every key Google hands out names this one)."""
READ_WRITE_SCOPE = "https://www.googleapis.com/auth/devstorage.read_write"
JWT_LIFETIME_S = 3600
"""The longest an assertion may be valid for."""
EARLY_REFRESH_S = 300.0
"""A token is replaced this long before it expires, so that no request starts with one about to lapse."""
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


@dataclass(frozen=True)
class ServiceAccountKey:
    """What the flow needs of a service account's JSON key."""

    client_email: str
    private_key: str
    private_key_id: str
    token_uri: str

    @classmethod
    def from_json(cls, account: Mapping[str, Any]) -> ServiceAccountKey:
        return cls(
            client_email=str(account.get("client_email") or ""),
            private_key=str(account.get("private_key") or ""),
            private_key_id=str(account.get("private_key_id") or ""),
            token_uri=str(account.get("token_uri") or TOKEN_URI),
        )

    def __repr__(self) -> str:  # never the key in a log or a traceback's locals
        return f"ServiceAccountKey(client_email={self.client_email!r}, token_uri={self.token_uri!r})"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def signed_assertion(key: ServiceAccountKey, scope: str, now: float) -> str:
    """The RS256-signed JWT that asks ``key.token_uri`` for a token with ``scope``."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding, rsa

    try:
        private = serialization.load_pem_private_key(key.private_key.encode(), password=None)
    except (ValueError, TypeError):
        raise errors.CredentialsError("the service account key's private_key is not a readable PEM key") from None
    if not isinstance(private, rsa.RSAPrivateKey):
        raise errors.CredentialsError("the service account key's private_key is not an RSA key")
    header = {"alg": "RS256", "typ": "JWT"}
    if key.private_key_id:
        header["kid"] = key.private_key_id
    claims = {
        "iss": key.client_email,
        "scope": scope,
        "aud": key.token_uri,
        "iat": int(now),
        "exp": int(now) + JWT_LIFETIME_S,
    }
    signing_input = ".".join(_b64url(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims))
    signature = private.sign(signing_input.encode("ascii"), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{_b64url(signature)}"


class AccessTokens:
    """Access tokens for one service account key, fetched when needed and cached until ``EARLY_REFRESH_S`` before
    they expire. Thread-safe: one fetch however many ask at once. The token is registered as a secret, so the
    redaction filter hides it from logs."""

    def __init__(
        self,
        key: ServiceAccountKey,
        http: urllib3.PoolManager,
        timeout: urllib3.Timeout,
        *,
        scope: str = READ_WRITE_SCOPE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.key = key
        self.scope = scope
        self._http = http
        self._timeout = timeout
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0

    def token(self) -> str:
        """A valid access token: the cached one, or a new one from the token endpoint."""
        with self._lock:
            now = self._clock()
            if self._token is None or now >= self._expires_at - EARLY_REFRESH_S:
                self._token, lifetime = self._fetch(now)
                self._expires_at = now + lifetime
            return self._token

    def forget(self) -> None:
        """Drop the cached token (the service refused it): the next request fetches another."""
        with self._lock:
            self._token = None

    def _fetch(self, now: float) -> tuple[str, float]:
        if not self.key.client_email:
            raise errors.ConfigError("the service account key has no client_email")
        body = urlencode({"grant_type": JWT_BEARER, "assertion": signed_assertion(self.key, self.scope, now)})
        try:
            response = self._http.request(
                "POST",
                self.key.token_uri,
                body=body.encode("ascii"),
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=self._timeout,
                retries=False,
            )
        except urllib3.exceptions.HTTPError as exc:
            raise errors.NetworkError(
                f"cannot reach the token endpoint {self.key.token_uri} ({type(exc).__name__})",
                transport=transport_of(exc),
            ) from None
        answer = json_object(response.data)
        if response.status != 200 or not isinstance(answer.get("access_token"), str):
            code = str(answer.get("error") or f"HTTP {response.status}")
            said = str(answer.get("error_description") or "")[:200]
            detail = f"{code}: {said}" if said else code
            if response.status >= 500:
                raise errors.ServiceError(f"the token endpoint failed ({detail})", status=response.status)
            raise errors.CredentialsError(
                f"the token endpoint refused the service account key ({detail})",
                status=response.status,
                service_code=code,
            )
        token: str = answer["access_token"]
        register_secret(token)
        try:
            lifetime = float(answer.get("expires_in") or JWT_LIFETIME_S)
        except (TypeError, ValueError):
            lifetime = float(JWT_LIFETIME_S)
        return token, lifetime


def transport_of(exc: urllib3.exceptions.HTTPError) -> Transport:
    """How a request failed below HTTP (urllib3's NewConnectionError is a ConnectTimeoutError: connect first)."""
    if isinstance(exc, urllib3.exceptions.ConnectTimeoutError):
        return "connect"
    if isinstance(exc, urllib3.exceptions.TimeoutError):
        return "timeout"
    if isinstance(exc, urllib3.exceptions.ProtocolError):
        return "reset"
    return "connect"


def json_object(data: bytes) -> dict[str, Any]:
    """A JSON body as a dict; {} when it is none (an HTML error page, nothing)."""
    try:
        value = json.loads(data or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
