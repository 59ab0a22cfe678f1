"""A job says ``verifying`` while its only file in flight checks the bytes it sent, and ``transferring`` again after."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdgui.core.copy.context import VERIFYING_SHOWN_FROM
from sdgui.core.copy.events import FileDone, Progress
from tests.copying import run_copy

pytestmark = pytest.mark.timeout(60)


def test_a_large_local_copy_reports_verifying_before_its_file_is_done(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(2 * VERIFYING_SHOWN_FROM)
    (tmp_path / "dst").mkdir()

    run = run_copy([str(big)], f"{tmp_path}/dst/")

    assert run.final.type == "job_finished"
    phases = [e.phase for e in run.events if isinstance(e, Progress)]
    assert "verifying" in phases
    first = phases.index("verifying")
    verifying = next(e for e in run.events if isinstance(e, Progress) and e.phase == "verifying")
    assert verifying.current_file == str(big)
    assert "transferring" in phases[:first]  # the bytes went first
    done_at = next(i for i, e in enumerate(run.events) if isinstance(e, FileDone))
    assert run.events.index(verifying) < done_at


def test_a_copy_without_verification_never_says_verifying(tmp_path: Path) -> None:
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(2 * VERIFYING_SHOWN_FROM)
    (tmp_path / "dst").mkdir()

    run = run_copy([str(big)], f"{tmp_path}/dst/", verify="off")

    assert run.final.type == "job_finished"
    assert "verifying" not in [e.phase for e in run.events if isinstance(e, Progress)]
