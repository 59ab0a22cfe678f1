"""A destination that existed under the "fail" policy is told in the window's words; other conflicts keep theirs."""

from __future__ import annotations

from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.copy.events import FileDone, FileFailed, JobFailed, JobStarted, Progress
from sdgui.core.paths import SdPath
from sdgui.gui.jobs.job_state import JobState
from sdgui.gui.models.transfers_model import failed_transferred_text, state_text

CLI_TEXT = "conflict error at cloud:docs/b.txt: the destination exists; choose --on-conflict skip, overwrite or rename"
CHOOSE = "copy again and choose Skip, Overwrite or Keep both"


def _state() -> JobState:
    sources = [SdPath.parse(f"/data/{name}") for name in ("a.txt", "b.txt", "c.txt")]
    state = JobState.for_action("j1", CopyAction(sources, SdPath.parse("cloud:docs/"), CopyOptions()))
    state.apply(JobStarted("j1", files=3, bytes_total=30, strategy="streaming upload"))
    return state


def _exists(name: str) -> FileFailed:
    return FileFailed("j1", f"/data/{name}", f"cloud:docs/{name}", "conflict", CLI_TEXT, destination_exists=True)


def test_several_existing_destinations_make_one_line_without_the_cli_option() -> None:
    state = _state()
    state.apply(FileDone("j1", "/data/a.txt", "cloud:docs/a.txt", 10, None, "verified", "streaming upload"))
    state.apply(_exists("b.txt"))
    state.apply(_exists("c.txt"))
    state.apply(Progress("j1", "transferring", "", 30, 30, 3, 3, 0.0, None))
    state.apply(JobFailed("j1", "conflict", f"2 of 3 files failed; first: {CLI_TEXT}", 1, 2))

    assert state.error == f"2 of 3 files already exist in cloud:docs/; {CHOOSE}"
    assert state.failed_files[0][1] == f"“b.txt” already exists in cloud:docs/; {CHOOSE}"
    assert state.fraction is not None and round(state.fraction, 2) == 0.33  # a.txt only: not 100 %
    assert failed_transferred_text(state) == "10 bytes of 30 bytes copied (1/3 files)"
    assert state_text(state) == "Failed · 2 failed"


def test_a_conflict_of_another_kind_keeps_its_own_message() -> None:
    state = _state()
    changed = "conflict error at cloud:docs/a.txt: the object changed since the copy started"
    state.apply(FileFailed("j1", "/data/a.txt", "cloud:docs/a.txt", "conflict", changed))
    state.apply(JobFailed("j1", "conflict", f"1 of 3 files failed; first: {changed}", 0, 1))

    assert state.failed_files[0][1] == changed
    assert state.error == f"1 of 3 files failed; first: {changed}"


def test_verifying_has_its_own_words() -> None:
    state = _state()
    state.apply(Progress("j1", "verifying", "/data/a.txt", 9, 30, 0, 3, 0.0, None))
    assert state_text(state) == "Verifying checksums…"
