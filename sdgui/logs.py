"""The log file a user can send: rotating, in the platform's user log directory, every secret redacted."""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from sdgui.core.redaction import RedactingFilter

LOG_FILE_NAME = "sdgui.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUP_COUNT = 3  # sdgui.log.1 … .3: what the last few sessions said, 8 MiB at most
FILE_FORMAT = "%(asctime)s %(process)d %(threadName)s %(levelname)s %(name)s: %(message)s"
# Libraries that log every header and event handler of every request at DEBUG: INFO even with --verbose.
CHATTY_LOGGERS = ("botocore", "urllib3", "s3transfer", "asyncio", "qasync")


def log_dir() -> Path:
    """Where the log files are: $SDGUI_LOG_DIR, else the platform's user log directory."""
    override = os.environ.get("SDGUI_LOG_DIR")
    return Path(override) if override else platformdirs.user_log_path("sdgui", appauthor=False)


def log_file() -> Path:
    """The log file the running program writes (older ones beside it end in .1, .2, …)."""
    return log_dir() / LOG_FILE_NAME


def debug_requested() -> bool:
    """SDGUI_DEBUG=1: everything, third-party libraries included, at DEBUG."""
    return os.environ.get("SDGUI_DEBUG", "") not in ("", "0")


class LogFileHandler(logging.handlers.RotatingFileHandler):
    """The rotating log file, with the redacting filter on the handler so no record reaches the disk unredacted."""

    def __init__(self, path: Path, level: int) -> None:
        super().__init__(path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True)
        self.setLevel(level)
        self.addFilter(RedactingFilter())
        self.setFormatter(logging.Formatter(FILE_FORMAT))


def open_log_file(level: int) -> LogFileHandler | None:
    """A handler for the log file, or None where its directory cannot be made (a log never stops the program)."""
    path = log_file()
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        logging.getLogger(__name__).warning("no log file: cannot create %s: %s", path.parent, exc)
        return None
    return LogFileHandler(path, level)


def current_log_file() -> LogFileHandler | None:
    """The log file handler already on the root logger, if one is."""
    return next((h for h in logging.getLogger().handlers if isinstance(h, LogFileHandler)), None)


@contextlib.contextmanager
def logging_configured(console: logging.Handler | None, *, verbose: bool) -> Iterator[None]:
    """For the duration: records go to the log file (INFO; DEBUG with ``verbose`` or SDGUI_DEBUG=1) and to
    ``console``; the chatty libraries stay at INFO unless their level was set on purpose."""
    debug = debug_requested()
    level = logging.DEBUG if verbose or debug else logging.INFO
    root = logging.getLogger()
    handlers: list[logging.Handler] = [] if console is None else [console]
    if current_log_file() is None:
        log_handler = open_log_file(level)
        if log_handler is not None:
            handlers.append(log_handler)
    chatty = {name: logging.getLogger(name).level for name in CHATTY_LOGGERS}
    previous = root.level
    for handler in handlers:
        root.addHandler(handler)
    root.setLevel(min(level, previous) if previous != logging.NOTSET else level)
    for name, chatty_level in chatty.items():
        if chatty_level == logging.NOTSET:  # a level set on purpose (SDGUI_DEBUG, a test) stays
            logging.getLogger(name).setLevel(logging.INFO)
    try:
        yield
    finally:
        for handler in handlers:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(previous)
        for name, chatty_level in chatty.items():
            logging.getLogger(name).setLevel(chatty_level)
