"""redact skips its credential patterns where a text cannot match them: what it returns is what running them
every time returns, for credentials in any case, for the non-ASCII letters IGNORECASE folds to ASCII, and for
text with none."""

from __future__ import annotations

import random

from sdgui.core import redaction
from sdgui.core.redaction import REDACTED, redact

NAMES = [
    "Authorization", "X-Amz-Security-Token", "X-Goog-Api-Key", "x-ms-copy-source-authorization", "X-Amz-Signature",
    "X-Amz-Credential", "X-Goog-Signature", "X-Goog-Credential", "Signature", "Credential", "sig", "AWSAccessKeyId",
    "access_token", "token",
]  # fmt: skip
FOLDING = {"i": "\u0130\u0131", "s": "\u017f", "k": "\u212a"}


def _reference(text: str) -> str:
    text = redaction._registry.redact(text)
    text = redaction._CREDENTIAL_HEADER.sub(lambda m: m.group(1) + REDACTED, text)
    text = redaction._LOGGED_SIGNATURE.sub(lambda m: m.group(1) + REDACTED, text)
    return redaction._CREDENTIAL_QUERY.sub(lambda m: f"{m.group(1)}={REDACTED}", text)


def _spellings(name: str, rng: random.Random) -> list[str]:
    mixed = "".join(c.upper() if rng.random() < 0.5 else c.lower() for c in name)
    folded = "".join(rng.choice(FOLDING[c.lower()]) if c.lower() in FOLDING and rng.random() < 0.5 else c for c in name)
    return [name, name.lower(), name.upper(), mixed, folded]


def test_redact_is_the_patterns_run_every_time() -> None:
    rng = random.Random(20261204)
    texts = ["", "plain text", "file  1.0 KiB  2026-12-04 18:50  photo.jpg", "a=b&c=d", "Signature", "sig", "token"]
    for name in NAMES:
        for spelled in _spellings(name, rng):
            texts += [
                f"GET /b/k?{spelled}=abc123&x=1",
                f"{spelled}: Bearer abc.def",
                f"'{spelled}': 'AWS4-HMAC-SHA256 Credential=AKIA/x, Signature=' + 'f' * 64",
                f"{spelled}:\n{'a' * 64}",
                f"name-{spelled}=value.txt",
                f"x{spelled}=no",
            ]
    alphabet = "aAsSiIkKgGnNtT=:-_&? \n\u0130\u0131\u017f\u212a\u00e9"
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 40))) for _ in range(3000)]
    for text in texts:
        assert redact(text) == _reference(text), repr(text)
    assert redact("GET /b/k?X-Amz-Signature=abc123") == "GET /b/k?X-Amz-Signature=***"  # the patterns still run
