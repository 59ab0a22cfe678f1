"""The log file a user can send: where it is, what a copy writes to it, and that no secret reaches it."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

from sdgui.cli import main
from sdgui.logs import LogFileHandler, log_dir, log_file
from tests.servers import S3Server

MiB = 1024 * 1024
SECRET_ENV = "SDGUI_LOG_TEST_SECRET"


def test_the_log_lives_in_the_log_dir() -> None:
    assert log_dir() == Path(os.environ["SDGUI_LOG_DIR"])
    assert log_file() == log_dir() / "sdgui.log"


def test_version_verbose_names_the_log_file(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == "sdgui 0.1.0\n"
    assert main(["--version", "--verbose"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("sdgui 0.1.0\n")
    assert f"log file:        {log_file()}" in out
    assert "keyring backend:" in out and "demo server:" in out


def test_verbose_copy_logs_it_and_no_secret(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    # moto takes any secret for its access key: one that would stand out in a log, and that no other test uses.
    secret = "log-test-secret-Zq8Vw3"
    monkeypatch.setenv(SECRET_ENV, secret)
    assert (
        main(
            [
                *("volume", "add", "logged", "--kind", "s3", "--bucket", bucket, "--allow-http"),
                *("--endpoint", moto_s3.endpoint, "--access-key-id", moto_s3.access_key_id, "--secret-env", SECRET_ENV),
            ]
        )
        == 0
    )
    source = tmp_path / "up"
    source.mkdir()
    (source / "small.txt").write_text("hello\n")
    (source / "big.bin").write_bytes(os.urandom(20 * MiB))  # over the multipart threshold: botocore's parts too
    # botocore at DEBUG logs every request's headers and signature: the filter must hold there too.
    botocore_log = logging.getLogger("botocore")
    previous = botocore_log.level
    botocore_log.setLevel(logging.DEBUG)
    try:
        assert main(["copy", "--verbose", str(source), "logged:dir/"]) == 0
    finally:
        botocore_log.setLevel(previous)
    assert main(["copy", "logged:dir/up/", f"{tmp_path / 'down'}/", "-v"]) == 0
    capsys.readouterr()

    text = log_file().read_text()
    assert secret not in text
    assert "sdgui.cli: sdgui 0.1.0" in text and "copy" in text and "ended with exit code 0" in text
    assert " DEBUG " in text  # --verbose: the detail is there
    assert "botocore.auth" in text  # the requests' signing was logged …
    assert not re.search(r"Signature[:=]\s*[0-9a-f]{16}", text)  # … but no signature
    assert "'Authorization': b'***'" in text
    assert (tmp_path / "down" / "up" / "big.bin").stat().st_size == 20 * MiB


def test_default_log_is_info_and_the_console_stays_quiet(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    assert main(["copy", str(tmp_path / "a.txt"), str(tmp_path / "b.txt")]) == 0
    assert capsys.readouterr().err == ""
    text = log_file().read_text()
    assert " INFO sdgui.cli: copy " in text and " DEBUG " not in text


def test_the_file_handler_redacts_what_it_writes(tmp_path: Path) -> None:
    from sdgui.core.secrets import register_secret

    register_secret("handler-secret-Kp2")
    handler = LogFileHandler(tmp_path / "x.log", logging.DEBUG)
    logger = logging.getLogger("sdgui.test.logfile")
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        logger.info("with %s and https://h/b/k?X-Amz-Signature=abc123&sig=def", "handler-secret-Kp2")
    finally:
        logger.removeHandler(handler)
        handler.close()
    text = (tmp_path / "x.log").read_text()
    assert "with *** and https://h/b/k?X-Amz-Signature=***&sig=***" in text
