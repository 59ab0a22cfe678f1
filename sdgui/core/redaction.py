"""Redaction of every secret seen, and of the credentials signed URLs and headers carry, from text and log records.

Apart from ``secrets`` (the keyring) so that everything printing or logging can hide secrets without importing
what stores them.
"""

from __future__ import annotations

import logging
import re
import threading
from urllib.parse import quote

REDACTED = "***"
# Shorter values would also match ordinary words and numbers, redacting half of every log line.
MIN_REDACTED_LENGTH = 4


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


# Every match of the three patterns above holds one of these, lowercased; a text without any is left as it is
# without running them (an `ls` page of 1,000 names spent a quarter of its time in them).
_TRIGGERS = (
    "authorization", "x-amz-security-token", "x-goog-api-key", "signature", "credential=", "sig=",
    "awsaccesskeyid=", "token=",
)  # fmt: skip
# The only non-ASCII letters IGNORECASE matches to ASCII ones (capital I with a dot, dotless i, long s and the
# Kelvin sign): where one is in the text, the patterns run whatever the lowercase text holds.
_FOLDS_TO_ASCII = re.compile("[\u0130\u0131\u017f\u212a]")


def _may_hold_credentials(text: str) -> bool:
    if _FOLDS_TO_ASCII.search(text) is not None:
        return True
    lowered = text.lower()
    return any(trigger in lowered for trigger in _TRIGGERS)


def redact(text: str) -> str:
    """``text`` with every registered secret, and the values of signed URLs' credential parameters and of
    authorization headers, replaced by ``***``."""
    text = _registry.redact(text)
    if not _may_hold_credentials(text):
        return text
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
