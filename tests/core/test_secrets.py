"""Secrets come from the OS keyring or an environment variable, never a file, and never reach a log."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail, null

from sdgui.core.errors import CredentialsError, KeyringUnavailableError
from sdgui.core.secrets import (
    SERVICE,
    KeyringStatus,
    RedactingFilter,
    SecretStore,
    keyring_status,
    redact,
    register_secret,
    resolve_secret,
)
from sdgui.core.volumes import VolumeConfig
from tests.keyrings import MemoryKeyring


class RaisingKeyring(KeyringBackend):
    """A keyring whose every call fails with a chosen keyring error, as a locked or broken backend does."""

    priority = 1

    def __init__(self, error: keyring.errors.KeyringError) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.error = error

    def get_password(self, service: str, username: str) -> str | None:
        raise self.error

    def set_password(self, service: str, username: str, password: str) -> None:
        raise self.error

    def delete_password(self, service: str, username: str) -> None:
        raise self.error


@pytest.fixture
def use_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def memory_keyring(use_keyring: None) -> MemoryKeyring:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    return backend


@pytest.fixture
def no_keyring(use_keyring: None) -> None:
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]


def s3(**overrides: object) -> VolumeConfig:
    config = VolumeConfig("minio", "s3", bucket="b")
    for key, value in overrides.items():
        setattr(config, key, value)
    return config


def test_store_round_trip(memory_keyring: MemoryKeyring) -> None:
    store = SecretStore()
    assert store.get("minio") is None
    store.set("minio", "s3cr3t-value")
    assert memory_keyring.entries == {(SERVICE, "minio"): "s3cr3t-value"}
    assert SERVICE == "sdgui"
    assert store.get("minio") == "s3cr3t-value"
    store.delete("minio")
    assert store.get("minio") is None
    store.delete("minio")  # missing is fine


def test_store_refuses_empty_secret(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(CredentialsError):
        SecretStore().set("minio", "")
    assert memory_keyring.entries == {}


@pytest.mark.parametrize("operation", ["get", "set", "delete"])
def test_no_keyring_is_a_typed_error(no_keyring: None, operation: str) -> None:
    store = SecretStore()
    secret = "never-shown-secret-1"
    with pytest.raises(KeyringUnavailableError) as info:
        if operation == "get":
            store.get("minio")
        elif operation == "set":
            store.set("minio", secret)
        else:
            store.delete("minio")
    message = str(info.value)
    assert "no OS keyring is available" in message
    assert "--secret-env" in message
    assert info.value.volume == "minio"
    assert secret not in message
    assert info.value.__cause__ is None


@pytest.mark.parametrize(
    "error",
    [
        keyring.errors.InitError("backend failed to start"),
        keyring.errors.KeyringLocked("locked"),
        keyring.errors.PasswordSetError("refused"),
        keyring.errors.NoKeyringError(""),
    ],
)
def test_broken_backend_is_a_typed_error(use_keyring: None, error: keyring.errors.KeyringError) -> None:
    keyring.set_keyring(RaisingKeyring(error))
    with pytest.raises(KeyringUnavailableError, match="--secret-env"):
        SecretStore().get("minio")
    with pytest.raises(KeyringUnavailableError, match="--secret-env"):
        SecretStore().set("minio", "another-secret-2")


def test_no_plaintext_fallback(no_keyring: None, tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(str(tmp_path))
    with pytest.raises(KeyringUnavailableError):
        SecretStore().set("minio", "plaintext-never-3")
    with pytest.raises(KeyringUnavailableError):
        SecretStore().get("minio")


def test_resolve_from_env(no_keyring: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MINIO_SECRET", "from-env-secret-4")
    config = s3(access_key_id="AKIA", secret_env="MINIO_SECRET")
    # The keyring is not consulted at all, so its absence does not matter.
    assert resolve_secret(config) == "from-env-secret-4"
    assert redact("key from-env-secret-4 used") == "key *** used"


@pytest.mark.parametrize(("value", "state"), [(None, "is not set"), ("", "is empty")])
def test_resolve_env_missing(monkeypatch: pytest.MonkeyPatch, value: str | None, state: str) -> None:
    if value is None:
        monkeypatch.delenv("MINIO_SECRET", raising=False)
    else:
        monkeypatch.setenv("MINIO_SECRET", value)
    with pytest.raises(CredentialsError) as info:
        resolve_secret(s3(secret_env="MINIO_SECRET"))
    assert f"MINIO_SECRET {state}" in str(info.value)
    assert info.value.volume == "minio"


def test_resolve_from_keyring(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[(SERVICE, "minio")] = "in-keyring-secret-5"
    assert resolve_secret(s3(access_key_id="AKIA")) == "in-keyring-secret-5"
    assert "in-keyring-secret-5" not in redact("it was in-keyring-secret-5")


def test_resolve_uses_given_store(memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[("other-service", "minio")] = "other-store-secret-6"
    assert resolve_secret(s3(access_key_id="AKIA"), SecretStore("other-service")) == "other-store-secret-6"


def test_resolve_access_key_without_secret(memory_keyring: MemoryKeyring) -> None:
    with pytest.raises(CredentialsError, match="--secret-env"):
        resolve_secret(s3(access_key_id="AKIA"))


def test_resolve_access_key_without_keyring(no_keyring: None) -> None:
    with pytest.raises(KeyringUnavailableError, match="--secret-env"):
        resolve_secret(s3(access_key_id="AKIA"))


def test_resolve_anonymous(memory_keyring: MemoryKeyring) -> None:
    assert resolve_secret(s3()) is None


def test_resolve_anonymous_without_keyring(no_keyring: None) -> None:
    assert resolve_secret(s3()) is None


def test_resolve_local_never_asks_keyring(use_keyring: None) -> None:
    keyring.set_keyring(RaisingKeyring(keyring.errors.InitError("must not be called")))
    assert resolve_secret(VolumeConfig("home", "local", root="/home")) is None


def test_redact() -> None:
    register_secret("abc")  # too short to redact without mangling ordinary text
    register_secret("topsecret")
    register_secret("topsecret-longer")
    register_secret("with/slash+plus")
    assert redact("abc topsecret") == "abc ***"
    assert redact("x=topsecret-longer;") == "x=***;"
    assert redact("https://h/?sig=with%2Fslash%2Bplus") == "https://h/?sig=***"
    assert redact("nothing here") == "nothing here"


def test_redact_credentials_of_signed_urls_and_headers() -> None:
    # Nothing registered: the values are hidden by the name of the parameter or header that carries them.
    presigned = (
        "https://s3.example.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAX%2F20260101%2Fus-east-1"
        "&X-Amz-Date=20260101T000000Z&X-Amz-Signature=0123abcd&x-amz-security-token=FwoGZX"
    )
    assert redact(presigned) == (
        "https://s3.example.com/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=***"
        "&X-Amz-Date=20260101T000000Z&X-Amz-Signature=***&x-amz-security-token=***"
    )
    sas = "https://acct.blob.core.windows.net/c/b?sv=2024-05-04&se=2026-02-01&sp=r&sig=abc%2Bdef%3D"
    assert redact(sas) == "https://acct.blob.core.windows.net/c/b?sv=2024-05-04&se=2026-02-01&sp=r&sig=***"
    headers = "{'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIAX/2026, Signature=feed', 'X-Amz-Date': b'2026'}"
    assert redact(headers) == "{'Authorization': b'***', 'X-Amz-Date': b'2026'}"
    assert redact("Authorization: SharedKey acct:c2lnbmF0dXJl") == "Authorization: ***"
    assert redact("botocore.auth: Signature:\n" + "ab" * 32) == "botocore.auth: Signature:\n***"
    # A listing's continuation token is no credential.
    assert redact("?list-type=2&continuation-token=abc") == "?list-type=2&continuation-token=abc"


def test_filter_redacts_caplog(caplog: pytest.LogCaptureFixture) -> None:
    register_secret("caplog-secret-7")
    caplog.handler.addFilter(RedactingFilter())
    log = logging.getLogger("sdgui.test")
    with caplog.at_level(logging.DEBUG, logger="sdgui.test"):
        log.info("message caplog-secret-7")
        log.info("args %s and %r", "caplog-secret-7", {"k": "caplog-secret-7"})
        try:
            raise RuntimeError("failed with caplog-secret-7")
        except RuntimeError:
            log.exception("boom")
        log.warning("stack", stack_info=True, extra={"x": 1})
    assert "caplog-secret-7" not in caplog.text
    assert "message ***" in caplog.text
    assert "RuntimeError: failed with ***" in caplog.text
    assert all("caplog-secret-7" not in record.getMessage() for record in caplog.records)


def test_filter_on_handler(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDLER_SECRET", "handler-secret-8")
    resolve_secret(s3(secret_env="HANDLER_SECRET"))
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter())
    log = logging.getLogger("sdgui.test.handler")
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    log.propagate = False
    try:
        log.info("connecting with %s", "handler-secret-8")
        # A broken format string must not raise at the call site, nor leak the secret.
        log.info("bad %d format", "handler-secret-8")
    finally:
        log.removeHandler(handler)
        log.propagate = True
    output = stream.getvalue()
    assert "handler-secret-8" not in output
    assert "connecting with ***" in output


def test_keyring_status_names_the_backend_or_says_there_is_none(use_keyring: None) -> None:
    keyring.set_keyring(MemoryKeyring())
    assert keyring_status() == KeyringStatus(True, MemoryKeyring.name)
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]
    assert not keyring_status().available
    keyring.set_keyring(null.Keyring())  # type: ignore[no-untyped-call]
    assert not keyring_status().available  # it would "store" a secret by dropping it
