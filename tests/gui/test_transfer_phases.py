"""The transfers panel's state column says "Verifying checksums…" while a window copy checks a large file's bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from sdgui.core.copy.context import VERIFYING_SHOWN_FROM
from sdgui.core.copy.events import JobEvent, Progress
from sdgui.gui.jobs.job_state import JobState
from sdgui.gui.models.transfers_model import state_text
from tests.gui.test_main_window import (
    LIST_TIMEOUT_MS,
    OpenWindow,
    local_path,
    select,
    wait_ended,
    wait_listed,
    wait_names,
)
from tests.gui.test_main_window import open_window as open_window

pytestmark = [pytest.mark.timeout(120), pytest.mark.usefixtures("settings_dir")]


def test_a_verified_local_copy_shows_the_verifying_phase(
    qtbot: QtBot, open_window: OpenWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, target = tmp_path / "src", tmp_path / "dst"
    source.mkdir()
    target.mkdir()
    with (source / "big.bin").open("wb") as handle:
        handle.truncate(2 * VERIFYING_SHOWN_FROM)
    shown: list[tuple[str, str]] = []  # (phase, state column text) of each progress event the manager folds in
    apply = JobState.apply

    def recording(state: JobState, event: JobEvent, now: float | None = None) -> None:
        apply(state, event, now)
        if isinstance(event, Progress) and event.job_id == state.job_id:
            shown.append((state.phase, state_text(state)))

    monkeypatch.setattr(JobState, "apply", recording)
    window = open_window(left=local_path(source), right=local_path(target))
    wait_listed(qtbot, window.left, local_path(source))
    wait_names(qtbot, window.left, {"big.bin"})
    select(window.left, "big.bin")
    window.left.view.setFocus()
    with qtbot.waitSignal(window.copy_requests.submitted, timeout=LIST_TIMEOUT_MS) as submitted:
        window.copy_to_other(move=False)
    [job_id] = submitted.args[0]

    assert wait_ended(qtbot, window, job_id).state == "finished"
    assert ("verifying", "Verifying checksums…") in shown
    phases = [phase for phase, _ in shown]
    assert phases.index("transferring") < phases.index("verifying") < phases.index("finishing")
    assert (target / "big.bin").stat().st_size == 2 * VERIFYING_SHOWN_FROM
