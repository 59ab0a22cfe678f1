"""`sdgui ls` prints a listing page at a time: every name of a many-page folder once, and a name holding a
registered secret redacted while the rest of its page prints as it is."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from sdgui.cli import main
from sdgui.core.redaction import register_secret

SECRET = "ls-secret-0123456789abcdef"


def test_ls_of_a_folder_of_several_pages_prints_every_name_in_order(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    names = [f"f{i:05d}.txt" for i in range(2500)]  # three pages of 1,000
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    assert main(["ls", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    printed = [line.split()[-1] for line in out.splitlines()]
    assert len(printed) == len(names) and sorted(printed) == names  # each page sorted; a folder's order is the disk's


def test_a_name_holding_a_secret_is_redacted_and_the_rest_of_its_page_is_not(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    register_secret(SECRET)
    for name in ("a.txt", f"b-{SECRET}.txt", "c  two spaces.txt"):
        (tmp_path / name).write_bytes(b"x")
    assert main(["ls", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert SECRET not in out
    assert out.splitlines()[0].endswith(" a.txt")
    assert out.splitlines()[1].endswith(" b-***.txt")
    assert out.splitlines()[2].endswith("c two spaces.txt")  # one line, whitespace folded as before


def test_each_row_shows_its_own_local_time(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    moments = [1_700_000_000, 1_700_000_000, 1_700_000_061, 1_600_000_000]  # two alike, one a minute on, one apart
    for i, moment in enumerate(moments):
        path = tmp_path / f"f{i}.txt"
        path.write_bytes(b"x")
        os.utime(path, (moment, moment))
    assert main(["ls", str(tmp_path)]) == 0
    rows = {line.split()[-1]: line for line in capsys.readouterr().out.splitlines()}
    for i, moment in enumerate(moments):
        shown = datetime.fromtimestamp(moment).astimezone().strftime("%Y-%m-%d %H:%M")
        assert shown in rows[f"f{i}.txt"]
