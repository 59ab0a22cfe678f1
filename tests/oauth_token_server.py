"""A token endpoint of the test suite's own on loopback, for the JWT-bearer flow (RFC 7523) a GCS service account key
is exchanged in: it verifies the assertion's RS256 signature with the public half of the key the test made and checks
its claims as Google's endpoint does (issuer, audience = this endpoint, scope, a lifetime of at most an hour), then
hands out an access token of its own making. Every grant is recorded, so a test can see which token a request used."""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass
class Grant:
    """One assertion the endpoint accepted: its header and claims, and the token handed out for it."""

    header: dict[str, Any]
    claims: dict[str, Any]
    token: str


@dataclass
class TokenAuthority:
    """What the endpoint accepts (the account's public key, email, key id) and what it did."""

    public_key: rsa.RSAPublicKey
    client_email: str
    key_id: str
    expires_in: int = 3600
    grants: list[Grant] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)

    def check(self, form: dict[str, list[str]], audience: str) -> Grant:
        """The grant for a token request's form; ValueError saying why it is refused."""
        if form.get("grant_type") != [JWT_BEARER]:
            raise ValueError("unsupported grant_type")
        head64, claims64, signature64 = form["assertion"][0].split(".")
        try:
            self.public_key.verify(
                _unb64(signature64), f"{head64}.{claims64}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            raise ValueError("Invalid JWT Signature.") from None
        header, claims = json.loads(_unb64(head64)), json.loads(_unb64(claims64))
        now = time.time()
        if header.get("alg") != "RS256" or header.get("kid") != self.key_id:
            raise ValueError(f"unexpected JWT header {header}")
        if claims.get("iss") != self.client_email or claims.get("aud") != audience:
            raise ValueError("Invalid JWT: issuer or audience")
        if not claims.get("scope"):
            raise ValueError("Invalid JWT: no scope")
        if not (claims["iat"] - 60 <= now <= claims["exp"]) or claims["exp"] - claims["iat"] > 3600:
            raise ValueError("Invalid JWT: Token must be a short-lived token (60 minutes)")
        return Grant(header, claims, f"ya29.test-{secrets.token_urlsafe(24)}")


class _Handler(BaseHTTPRequestHandler):
    server: OAuthTokenServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        authority = self.server.authority
        form = parse_qs(self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode())
        try:
            grant = authority.check(form, self.server.token_uri)
        except (ValueError, KeyError, IndexError) as exc:
            authority.refusals.append(str(exc))
            self._json(400, {"error": "invalid_grant", "error_description": str(exc)})
            return
        authority.grants.append(grant)
        self._json(200, {"access_token": grant.token, "expires_in": authority.expires_in, "token_type": "Bearer"})

    def _json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class OAuthTokenServer(ThreadingHTTPServer):
    """The endpoint at ``token_uri`` on 127.0.0.1; a context manager that serves from a thread and stops."""

    daemon_threads = True

    def __init__(self, authority: TokenAuthority) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.authority = authority
        self._thread = threading.Thread(target=self.serve_forever, name="oauth-token-server", daemon=True)

    @property
    def token_uri(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}/token"

    def __enter__(self) -> OAuthTokenServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self._thread.join(timeout=10)
        self.server_close()
