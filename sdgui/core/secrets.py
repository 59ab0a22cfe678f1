"""Secrets through the OS keyring or an environment variable only, and redaction of every secret seen."""

from __future__ import annotations

import logging
import os
import re
import threading
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING
from urllib.parse import quote

from sdgui.core.errors import CredentialsError, KeyringUnavailableError
from sdgui.core.volumes import VolumeConfig

if TYPE_CHECKING:
    import keyring.errors

logger = logging.getLogger(__name__)

SERVICE = "sdgui"
REDACTED = "***"
# Shorter values would also match ordinary words and numbers, redacting half of every log line.
MIN_REDACTED_LENGTH = 4

_NO_KEYRING_HINT = (
    "no OS keyring is available ({reason}); keep the secret in an environment variable instead: "
    "`sdgui volume add ... --secret-env VAR` and export VAR before starting sdgui"
)


def _keyring() -> ModuleType:
    """keyring, imported on first use: finding its backends costs tens of milliseconds at every start, and a
    volume whose secret is in an environment variable never needs it."""
    import keyring
    import keyring.errors

    return keyring


class SecretStore:
    """The OS keyring, one entry per volume (service "sdgui", username = volume name); no plaintext fallback."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service

    def get(self, volume: str) -> str | None:
        """The stored secret of ``volume``, or None if there is none."""
        keyring = _keyring()
        try:
            secret = keyring.get_password(self.service, volume)
        except keyring.errors.KeyringError as exc:
            raise _unavailable(exc, volume) from None
        if secret:
            register_secret(secret)
        return secret or None

    def set(self, volume: str, secret: str) -> None:
        """Store ``secret`` for ``volume``, replacing any previous one."""
        if not secret:
            raise CredentialsError("refusing to store an empty secret", volume=volume)
        register_secret(secret)
        keyring = _keyring()
        try:
            keyring.set_password(self.service, volume, secret)
        except keyring.errors.KeyringError as exc:
            # from None: the backend's exception could in principle quote what it was asked to store.
            raise _unavailable(exc, volume) from None

    def delete(self, volume: str) -> None:
        """Forget the secret of ``volume``; nothing to forget is fine."""
        keyring = _keyring()
        try:
            keyring.delete_password(self.service, volume)
        except keyring.errors.PasswordDeleteError:
            # Backends raise this for a missing entry; any real failure of the keyring is a different error.
            pass
        except keyring.errors.KeyringError as exc:
            raise _unavailable(exc, volume) from None


@dataclass(frozen=True)
class KeyringStatus:
    """Where a secret typed for a volume would go, known before anything is stored (Vorta's keyring status)."""

    available: bool
    """False when there is no keyring that keeps secrets: keyring's fail backend, its null one, or an empty chain."""
    backend: str
    """The backend's display name (keyring's ``name``, e.g. "SecretService Keyring"); for a chain, its members'."""


def keyring_status() -> KeyringStatus:
    """Which keyring backend ``SecretStore`` would use. May wait on the OS keyring's service: call it off the GUI
    thread."""
    keyring = _keyring()
    from keyring.backends import chainer, fail, null

    backend = keyring.get_keyring()
    if isinstance(backend, chainer.ChainerBackend):
        members = list(backend.backends)
        return KeyringStatus(bool(members), ", ".join(member.name for member in members) or backend.name)
    return KeyringStatus(not isinstance(backend, (fail.Keyring, null.Keyring)), backend.name)


def _unavailable(exc: keyring.errors.KeyringError, volume: str) -> KeyringUnavailableError:
    reason = redact(str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__)
    return KeyringUnavailableError(_NO_KEYRING_HINT.format(reason=reason), volume=volume)


def resolve_secret(config: VolumeConfig, store: SecretStore | None = None) -> str | None:
    """The secret for ``config``: from its ``secret_env`` variable, else the keyring; None for anonymous access."""
    if config.secret_env:
        value = os.environ.get(config.secret_env)
        if not value:
            state = "is empty" if value == "" else "is not set"
            raise CredentialsError(
                f"environment variable {config.secret_env} {state}; export it before starting sdgui",
                volume=config.name,
            )
        register_secret(value)
        return value
    if config.kind == "local" or config.profile or config.service_account_file:
        return None  # a profile's credentials are botocore's to resolve; a key file is obstore's to read
    store = store if store is not None else SecretStore()
    if config.access_key_id is None:
        # Anonymous (public bucket) or ambient credentials: a missing keyring is no reason to fail.
        try:
            return store.get(config.name)
        except KeyringUnavailableError:
            logger.debug("no keyring for volume %s; using anonymous or ambient credentials", config.name)
            return None
    secret = store.get(config.name)
    if secret is None:
        raise CredentialsError(
            f"access key id {config.access_key_id} has no secret in the OS keyring; store one, or name an "
            "environment variable holding it with --secret-env",
            volume=config.name,
        )
    return secret


class _SecretRegistry:
    """Every secret seen so far, with one compiled pattern to find them all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._values: set[str] = set()
        self._pattern: re.Pattern[str] | None = None

    def add(self, value: str) -> None:
        if len(value) < MIN_REDACTED_LENGTH:
            return
        # A secret can reach a log inside a URL, percent-encoded ("/" as %2F in AWS secrets).
        forms = {value, quote(value, safe=""), quote(value)}
        with self._lock:
            if forms <= self._values:
                return
            self._values |= forms
            # Longest first, so a secret that contains another is replaced whole.
            ordered = sorted(self._values, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(v) for v in ordered))

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None

    def redact(self, text: str) -> str:
        pattern = self._pattern
        return pattern.sub(REDACTED, text) if pattern is not None else text


_registry = _SecretRegistry()


def register_secret(value: str) -> None:
    """Remember ``value`` so that ``redact`` and ``RedactingFilter`` hide it from now on."""
    _registry.add(value)


def forget_secrets() -> None:
    """Forget every registered secret (tests isolate themselves with it)."""
    _registry.clear()


# Signed URLs, SAS tokens and request headers carry credentials of their own: a signature, a session token, a
# SAS of some other volume. Their values are hidden by name, whether or not the secret behind them was registered.
_CREDENTIAL_QUERY = re.compile(
    r"(?<![\w-])(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|X-Goog-Credential"
    r"|Signature|Credential|sig|AWSAccessKeyId|access_token|token)=([^&\s,;\"'<>]+)",
    re.IGNORECASE,
)
_CREDENTIAL_HEADER = re.compile(
    r"(?<![\w-])((?:Authorization|X-Amz-Security-Token|X-Goog-Api-Key|x-ms-copy-source-authorization)[\"']?\s*[:=]\s*"
    r"b?[\"']?)([^\"'\r\n]+)",
    re.IGNORECASE,
)

# botocore's DEBUG log prints each request's signature on the line after "Signature:".
_LOGGED_SIGNATURE = re.compile(r"(?<![\w-])(Signature:\s*)([0-9a-f]{64})", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with every registered secret, and the values of signed URLs' credential parameters and of
    authorization headers, replaced by ``***``."""
    text = _registry.redact(text)
    text = _CREDENTIAL_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    text = _LOGGED_SIGNATURE.sub(lambda m: m.group(1) + REDACTED, text)
    return _CREDENTIAL_QUERY.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


_TRACEBACK_FORMATTER = logging.Formatter()


class RedactingFilter(logging.Filter):
    """A logging filter that removes registered secrets from a record's message, traceback and stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:
            # A bad format string must not make logging raise at the call site; keep the raw parts, redacted.
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            # Formatters reuse exc_text when it is set, so the redacted traceback is the one printed.
            record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True
