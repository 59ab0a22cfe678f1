"""How the window words an error it was handed: an SdError's own text (it names the volume and path) and a hint."""

from __future__ import annotations

from sdgui.core.errors import SdError

# What to check after each kind of failure.
HINTS = {
    "credentials": "check the access key ID and the secret",
    "network": "check the endpoint address and that the service is reachable",
    "permission": "the key is valid but may not use this bucket",
    "not-found": "check the bucket name and the region",
    "config": "check the fields above",
    "keyring": "keep the secret in an environment variable instead",
    "throttled": "the service is busy; try again in a moment",
    "service": "the service answered with an error; try again later",
}

# Hints for a file operation in a pane, where "the fields above" means nothing.
_FILE_HINTS = {**HINTS, "config": "check the volume's settings (F9 Volumes…)", "not-found": "refresh the folder"}


def error_text(exc: Exception) -> str:
    """``network error at cloud:a/b: refused. Check the endpoint…``; a bug shows as one line, never a traceback."""
    if not isinstance(exc, SdError):
        return f"unexpected error: {type(exc).__name__}: {exc}"
    hint = _FILE_HINTS.get(exc.kind)
    return f"{exc}.\n\n{hint[0].upper()}{hint[1:]}." if hint else str(exc)


_CHOOSE = "copy again and choose Skip, Overwrite or Keep both"


def _folder_of(label: str) -> tuple[str, str]:
    """``cloud:docs/a.txt`` → (``cloud:docs/``, ``a.txt``); ``cloud:a.txt`` → (``cloud:``, ``a.txt``)."""
    head, sep, name = label.rpartition("/")
    if not sep:
        head, sep, name = label.partition(":")
    return head + sep, name


def exists_text(destination: str) -> str:
    """What the window says when a file met an existing destination under the "fail" policy (a name that appeared
    after the prompt looked): the CLI's text names its ``--on-conflict`` option instead."""
    folder, name = _folder_of(destination)
    return f"“{name}” already exists in {folder}; {_CHOOSE}"


def several_exist_text(count: int, total: int, folder: str) -> str:
    """The job's line when ``count`` of its ``total`` files met existing destinations in ``folder``."""
    return f"{count} of {total} files already exist in {folder}; {_CHOOSE}"
