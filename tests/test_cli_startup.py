"""What `sdgui` imports before it does its work: `--version` and the argument parsing import none of the heavy
libraries, and `sdgui ls` reaches an S3 service without botocore, the keyring, the copy machinery or the window.
Checked by module, not by time, so a loaded machine cannot make it flaky (issue 10: start to first request)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import S3Server
from tests.test_cli import add_volume, keys, put

HEAVY = ("obstore", "botocore", "boto3", "keyring", "blake3", "crc32c", "rich", "PySide6", "qasync", "superqt")
"""Libraries that cost milliseconds each to import, wanted only by the commands (or the window) that use them."""
NOT_FOR_PARSING = (*HEAVY, "sdgui.core.backends", "sdgui.core.volumes", "sdgui.core.copy", "sdgui.gui", "tomllib")
"""What `--version` and the parsing of any command's arguments need none of."""
NOT_FOR_LISTING = (
    "botocore",
    "boto3",
    "keyring",
    "blake3",
    "crc32c",
    "rich",
    "PySide6",
    "sdgui.core.copy",
    "sdgui.gui",
)
"""What `sdgui ls` of an S3 volume whose secret is in an environment variable needs none of."""


def imported_after(code: str, prefixes: tuple[str, ...]) -> dict[str, object]:
    """Run ``code`` (which sets ``result``) in a fresh interpreter; the result and the modules under ``prefixes``
    that were imported by then."""
    script = (
        f"import json, sys\n{code}\n"
        f"prefixes = {prefixes!r}\n"
        "loaded = sorted(m for m in sys.modules if any(m == p or m.startswith(p + '.') for p in prefixes))\n"
        "print(json.dumps({'result': result, 'loaded': loaded}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=os.environ.copy()
    )
    assert done.returncode == 0, done.stderr
    outcome: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return outcome


def test_version_imports_no_heavy_module() -> None:
    outcome = imported_after(
        "import contextlib, io\nfrom sdgui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n    code = main(['--version'])\n"
        "result = [code, out.getvalue()]",
        (*NOT_FOR_PARSING, "sdgui.logs", "logging.handlers", "platformdirs"),
    )
    assert outcome["result"][0] == 0 and str(outcome["result"][1]).startswith("sdgui ")  # type: ignore[index]
    assert outcome["loaded"] == []


@pytest.mark.parametrize(
    "argv",
    [
        ["ls", "cloud:"],
        ["copy", "a.txt", "cloud:dir/"],
        ["volume", "add", "x", "--kind", "s3"],
        ["rm", "-r", "cloud:dir/"],
        ["jobs", "resume", "abc"],
    ],
)
def test_parsing_a_command_imports_no_heavy_module(argv: list[str]) -> None:
    outcome = imported_after(
        f"from sdgui.cli import build_parser\nresult = build_parser().parse_args({argv!r}).command",
        NOT_FOR_PARSING,
    )
    assert outcome["result"] == argv[0]
    assert outcome["loaded"] == []


def test_help_still_names_the_log_file() -> None:
    """The log file's path is looked up only when the help is printed; it is still there."""
    wide = {**os.environ, "COLUMNS": "400"}  # one line per option: a path is not wrapped at a hyphen
    done = subprocess.run(
        [sys.executable, "-m", "sdgui", "ls", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=wide,
    )
    log_file = os.path.join(os.environ["SDGUI_LOG_DIR"], "sdgui.log")
    assert f"log in detail, to stderr and to the log file ({log_file})" in done.stdout


def test_ls_reaches_s3_without_botocore_or_the_keyring(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server
) -> None:
    bucket = moto_s3.new_bucket()
    put(moto_s3, bucket, "docs/a.txt", b"hello")
    add_volume(capsys, monkeypatch, moto_s3, bucket)  # the secret comes from an environment variable
    outcome = imported_after(
        "import contextlib, io\nfrom sdgui.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()) as out:\n    code = main(['ls', 'cloud:docs/'])\n"
        "result = [code, out.getvalue()]",
        (*NOT_FOR_LISTING, "obstore"),
    )
    code, listed = outcome["result"]  # type: ignore[misc]
    assert code == 0 and listed.split()[-1] == "a.txt"
    loaded = list(outcome["loaded"])  # type: ignore[call-overload]
    assert "obstore" in loaded  # the listing went through obstore, and nothing else heavy came with it
    assert [module for module in loaded if module.partition(".")[0] != "obstore"] == []


def test_a_small_upload_imports_neither_botocore_nor_the_crc_packages(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, moto_s3: S3Server, tmp_path: Path
) -> None:
    bucket = moto_s3.new_bucket()
    add_volume(capsys, monkeypatch, moto_s3, bucket)
    source = tmp_path / "a.txt"
    source.write_bytes(b"hello")
    outcome = imported_after(
        f"from sdgui.cli import main\nresult = main(['copy', {str(source)!r}, 'cloud:docs/', '--json'])",
        ("botocore", "keyring", "crc32c", "anycrc", "uuid", "PySide6", "sdgui.gui", "sdgui.core.delete"),
    )
    assert outcome == {"result": 0, "loaded": []}
    assert keys(moto_s3, bucket) == ["docs/a.txt"]


@pytest.mark.parametrize(
    "argv",
    [
        ["-v", "ls", "cloud:docs/", "--json"],
        ["copy", "a.txt", "b.txt", "cloud:dir/", "--on-conflict", "skip", "--no-verify"],
        ["move", "cloud:a.txt", "./", "-v"],
        ["volume", "add", "x", "--kind", "s3", "--bucket", "b", "--allow-http"],
        ["volume", "import", "rclone", "--bucket", "r2=photos", "--dry-run"],
        ["volume", "cleanup", "x", "--older-than", "7d"],
        ["rm", "-r", "cloud:dir/"],
        ["jobs", "resume", "abc", "--json"],
        ["jobs"],
        ["--version"],
        [],
    ],
)
def test_a_command_line_parses_the_same_with_only_its_command_built(argv: list[str]) -> None:
    """build_parser(argv) leaves out the other commands' options; what it makes of argv is what the whole parser
    makes of it."""
    from sdgui.cli import build_parser

    assert vars(build_parser(argv).parse_args(argv)) == vars(build_parser().parse_args(argv))


@pytest.mark.parametrize("command", ["ls", "copy", "volume"])
def test_the_cycle_collector_runs_again_once_the_command_is_imported(command: str, tmp_path: Path) -> None:
    """`entry` stops the collector while the command's modules are imported; the command itself runs with it (a
    job over many files makes cycles), and the modules' objects are left out of its passes (frozen)."""
    source = tmp_path / "a.txt"
    source.write_bytes(b"hello")
    argv = {
        "ls": ["sdgui", "ls", str(tmp_path)],
        "copy": ["sdgui", "copy", str(source), str(tmp_path / "b.txt")],
        "volume": ["sdgui", "volume", "list"],
    }[command]
    outcome = imported_after(
        "import contextlib, gc, io\nfrom sdgui import cli\n"
        f"sys.argv = {argv!r}\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n    code = cli.entry()\n"
        "result = [code, gc.isenabled(), gc.get_freeze_count() > 0]",
        (),
    )
    assert outcome["result"] == [0, True, True]
    if command == "copy":
        assert (tmp_path / "b.txt").read_bytes() == b"hello"
