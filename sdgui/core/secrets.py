"""Secrets through the OS keyring or an environment variable only; every secret seen is registered for redaction
(``sdgui.core.redaction``, whose names this module also offers)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from sdgui.core.errors import CredentialsError, KeyringUnavailableError
from sdgui.core.redaction import (
    MIN_REDACTED_LENGTH,
    REDACTED,
    RedactingFilter,
    forget_secrets,
    redact,
    register_secret,
)

if TYPE_CHECKING:
    import keyring.errors

    from sdgui.core.volumes import VolumeConfig

__all__ = [
    "MIN_REDACTED_LENGTH",
    "REDACTED",
    "SERVICE",
    "KeyringStatus",
    "RedactingFilter",
    "SecretStore",
    "forget_secrets",
    "keyring_status",
    "redact",
    "register_secret",
    "resolve_secret",
]

logger = logging.getLogger(__name__)

SERVICE = "sdgui"

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
