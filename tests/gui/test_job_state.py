"""JobState folds core events into what the transfers list shows; retry_action picks what is left to do."""

from __future__ import annotations

from datetime import UTC, datetime

from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.copy.events import (
    ConcurrencyChanged,
    Direction,
    FileDone,
    FileFailed,
    FileRetrying,
    FileSkipped,
    JobCancelled,
    JobFailed,
    JobFinished,
    JobStarted,
    Progress,
)
from sdgui.core.delete import DeleteAction
from sdgui.core.journal import JobInfo
from sdgui.core.paths import SdPath
from sdgui.gui.jobs.job_state import (
    RETRY_LOG_LIMIT,
    JobState,
    action_title,
    direction_of,
    named_title,
    retry_action,
)


def _action(sources: list[str], destination: str, **options: object) -> CopyAction:
    return CopyAction([SdPath.parse(s) for s in sources], SdPath.parse(destination), CopyOptions(**options))  # type: ignore[arg-type]


def _state(sources: list[str] | None = None, destination: str = "cloud:dst/", **options: object) -> JobState:
    return JobState.for_action("j1", _action(sources or ["/data/a.bin"], destination, **options))


def test_a_new_job_is_queued_with_texts_from_its_action() -> None:
    state = JobState.for_action("j1", _action(["/data/a.bin", "/data/b.bin"], "cloud:dst/"), "")
    assert state.state == "queued"
    assert state.direction == "upload"
    assert state.source_text == "/data/a.bin and 1 more"
    assert state.destination_text == "cloud:dst/"
    assert state.title == "Upload /data/a.bin and 1 more"
    assert state.fraction == 0.0
    assert state.verification_summary == ""


def test_direction_from_paths() -> None:
    assert direction_of(_action(["/a"], "/b/")) == Direction.LOCAL
    assert direction_of(_action(["/a"], "cloud:x")) == "upload"
    assert direction_of(_action(["cloud:x"], "/b/")) == "download"
    assert direction_of(_action(["cloud:x"], "cloud:y")) == "server-side"
    assert direction_of(_action(["cloud:x"], "other:y")) == Direction.CROSS_VOLUME


def test_events_drive_a_job_to_finished() -> None:
    state = _state()
    state.mark_running(now=100.0)
    assert state.state == "running"
    assert state.fraction is None  # running, nothing known yet
    state.apply(JobStarted("j1", files=2, bytes_total=1000, strategy="streaming upload"), now=100.5)
    assert (state.files_total, state.bytes_total, state.strategy) == (2, 1000, "streaming upload")
    assert state.started_at == 100.0
    state.apply(Progress("j1", "transferring", "/data/a.bin", 250, 1000, 0, 2, 500.0, 1.5))
    assert state.fraction == 0.25
    assert (state.current_file, state.rate, state.eta_s) == ("/data/a.bin", 500.0, 1.5)
    state.apply(FileDone("j1", "/data/a.bin", "cloud:dst/a.bin", 500, "h", "verified", "streaming upload"))
    state.apply(FileSkipped("j1", "/data/b.bin", "cloud:dst/b.bin", "exists"))
    state.apply(JobFinished("j1", 1, 1, 500, 2.0, 1, 0, 0), now=102.0)
    assert state.state == "finished"
    assert state.is_ended and not state.is_active
    assert state.fraction == 1.0
    assert (state.files_done, state.files_skipped, state.files_copied) == (2, 1, 1)
    assert (state.rate, state.eta_s, state.current_file) == (0.0, None, "")
    assert state.ended_at == 102.0
    assert state.elapsed_s == 2.0
    assert state.verification_summary == "verified"


def test_job_started_refines_the_direction() -> None:
    state = _state(["cloud:a"], "cloud:b")
    assert state.direction == "server-side"
    started = JobStarted(
        "j1", files=1, bytes_total=1, strategy="cross-volume streaming", direction=Direction.CROSS_VOLUME
    )
    state.apply(started)
    assert state.direction == Direction.CROSS_VOLUME
    assert state.direction_text == "Copy"


def test_a_quiet_transfer_loses_its_rate_and_eta() -> None:
    state = _state()
    state.mark_running(now=0.0)
    state.apply(Progress("j1", "transferring", "a", 10, 100, 0, 1, 5.0, 18.0), now=10.0)
    assert not state.mark_stalled_if_quiet(3.0, now=12.0)
    assert state.mark_stalled_if_quiet(3.0, now=13.5)
    assert (state.rate, state.eta_s) == (0.0, None)
    assert not state.mark_stalled_if_quiet(3.0, now=20.0)  # already a dash: nothing to repaint


def test_verification_summary_counts_a_mix() -> None:
    state = _state()
    assert state.verification_summary == ""
    state.provider_checked = 3
    assert state.verification_summary == "provider-checked"
    state.verified, state.unverified = 2, 1
    assert state.verification_summary == "2 verified, 3 provider-checked, 1 unverified"


def test_failed_files_and_the_job_error_are_kept() -> None:
    state = _state()
    state.mark_running()
    state.apply(FileFailed("j1", "/data/a.bin", "cloud:dst/a.bin", "network", "network error: reset"))
    state.apply(JobFailed("j1", "network", "1 of 1 files failed; first: network error: reset", 0, 1))
    assert state.state == "failed"
    assert state.failed_files == [("/data/a.bin", "network error: reset")]
    assert state.error_kind == "network"
    assert state.error.startswith("1 of 1 files failed")


def test_events_after_the_end_and_of_other_jobs_are_ignored() -> None:
    state = _state()
    state.apply(JobCancelled("j1", 0))
    assert state.state == "cancelled"
    state.apply(Progress("j1", "transferring", "x", 5, 10, 0, 1, 1.0, 1.0))
    assert state.bytes_done == 0
    other = _state()
    other.apply(JobStarted("someone-else", files=1, bytes_total=1, strategy="local copy"))
    assert other.state == "queued"


def test_a_queued_job_cancelled_never_started() -> None:
    state = _state()
    state.mark_cancelled(now=5.0)
    assert state.state == "cancelled"
    assert state.started_at is None
    assert state.elapsed_s is None


def _retrying(source: str, attempt: int, attempts: int = 5, kind: str = "network") -> FileRetrying:
    return FileRetrying("j1", source, f"cloud:dst/{source.rpartition('/')[2]}", attempt, attempts, 1.25, kind,
                        f"{kind} error at {source}: connection reset")  # fmt: skip


def test_file_retrying_counts_retries_and_names_the_next_attempt() -> None:
    state = _state(["/data/dir/"])
    state.mark_running()
    assert (state.retries, state.retry_status, state.last_retry) == (0, None, "")
    state.apply(_retrying("/data/dir/a", 1))
    state.apply(_retrying("/data/dir/a", 2))
    assert state.retries == 2
    assert state.retry_status == (3, 5)  # attempts 1 and 2 failed: the third of five comes next
    assert state.last_retry == (
        "/data/dir/a: retry 3 of 5 after network error at /data/dir/a: connection reset (in 1.2 s)"
    )
    state.apply(_retrying("/data/dir/b", 1, kind="throttled"))
    assert state.retry_status == (2, 5)  # the newest retry is the one shown
    state.apply(FileDone("j1", "/data/dir/b", "cloud:dst/b", 1, None, "verified", "streaming upload", attempts=2))
    assert state.retry_status == (3, 5)  # b made it; a is still being retried
    state.apply(FileFailed("j1", "/data/dir/a", "cloud:dst/a", "network", "gave up after 5 attempts", attempts=5))
    assert state.retry_status is None
    assert state.retries == 3 and len(state.retry_log) == 3  # the history stays for the tooltip and details


def test_retry_log_is_bounded_but_the_count_goes_on() -> None:
    state = _state()
    state.mark_running()
    for i in range(RETRY_LOG_LIMIT + 50):
        state.apply(_retrying(f"/data/f{i}", 1))
    assert state.retries == RETRY_LOG_LIMIT + 50
    assert len(state.retry_log) == RETRY_LOG_LIMIT
    assert state.retry_log[-1].startswith(f"/data/f{RETRY_LOG_LIMIT + 49}: retry 2 of 5")
    state.apply(JobFinished("j1", 1, 0, 1, 1.0, 1, 0, 0))
    assert state.retry_status is None  # nothing is being retried once the job has ended


def test_concurrency_changes_mark_the_job_throttled_until_it_recovers() -> None:
    state = _state()
    state.mark_running()
    state.concurrency_max = 8  # the manager sets it from the job's settings
    assert not state.throttled
    state.apply(ConcurrencyChanged("j1", 4, "throttled"))
    state.apply(ConcurrencyChanged("j1", 2, "throttled"))
    assert (state.throttled, state.concurrency_limit, state.concurrency_lowest) == (True, 2, 2)
    for limit in range(3, 8):
        state.apply(ConcurrencyChanged("j1", limit, "recovered"))
        assert state.throttled  # still below the 8 files at once it may copy
    state.apply(ConcurrencyChanged("j1", 8, "recovered"))
    assert (state.throttled, state.concurrency_limit, state.concurrency_lowest) == (False, 8, 2)


def test_without_a_known_maximum_the_last_change_decides() -> None:
    state = _state()
    state.apply(ConcurrencyChanged("j1", 4, "throttled"))
    assert state.throttled
    state.apply(ConcurrencyChanged("j1", 5, "recovered"))
    assert not state.throttled


def test_a_resumed_job_sums_resumed_bytes_then_takes_the_final_figures() -> None:
    state = JobState.for_action("j1", _action(["cloud:a.bin", "cloud:b.bin", "cloud:c.bin"], "/down/"), resumed=True)
    state.mark_running()
    state.apply(FileSkipped("j1", "cloud:a.bin", "/down/a.bin", "copied-before"))
    state.apply(FileDone("j1", "cloud:b.bin", "/down/b.bin", 100, "h", "verified", "streaming download",
                         bytes_resumed=60))  # fmt: skip
    state.apply(FileDone("j1", "cloud:c.bin", "/down/c.bin", 50, "h", "verified", "streaming download",
                         bytes_resumed=0, note="the source changed; copied again from the start"))  # fmt: skip
    assert (state.bytes_resumed, state.files_copied_before, state.bytes_transferred) == (60, 1, None)
    assert state.notes == ["cloud:c.bin: the source changed; copied again from the start"]
    state.apply(JobFinished("j1", 2, 1, 160, 1.0, 2, 0, 0, bytes_transferred=90, bytes_resumed=60))
    assert (state.state, state.bytes_transferred, state.bytes_resumed, state.files_skipped) == ("finished", 90, 60, 1)
    assert state.resumed


def test_action_title_counts_items() -> None:
    assert action_title(_action(["/a", "/b", "/c"], "cloud:photos/")) == "Copy 3 items to cloud:photos/"
    assert action_title(_action(["/a"], "cloud:x/", delete_after_copy=True)) == "Move 1 item to cloud:x/"


# -- retry -----------------------------------------------------------------------------------------------------
def test_retry_of_a_job_that_failed_before_copying_repeats_it() -> None:
    state = _state()
    state.apply(JobFailed("j1", "not-found", "the source does not exist"))
    assert retry_action(state) == state.action


def test_retry_of_one_failed_file_targets_exactly_that_file() -> None:
    state = _state(["/data/dir/"], "cloud:dst/", on_conflict="rename")
    state.apply(FileDone("j1", "/data/dir/a", "cloud:dst/dir/a", 1, None, "verified", "streaming upload"))
    state.apply(FileFailed("j1", "/data/dir/b", "cloud:dst/dir/b (1)", "network", "reset"))
    state.apply(JobFailed("j1", "network", "1 of 2 files failed", 1, 1))
    action = retry_action(state)
    assert action.sources == [SdPath.parse("/data/dir/b")]
    assert action.destination == SdPath.parse("cloud:dst/dir/b (1)")
    assert action.options == state.action.options


def test_retry_of_failed_files_in_one_directory_copies_only_them() -> None:
    state = _state(["/data/dir/"], "cloud:dst/")
    for name in ("b", "c"):
        state.apply(FileFailed("j1", f"/data/dir/{name}", f"cloud:dst/dir/{name}", "network", "reset"))
    state.apply(JobFailed("j1", "network", "2 of 3 files failed", 1, 2))
    action = retry_action(state)
    assert action.sources == [SdPath.parse("/data/dir/b"), SdPath.parse("/data/dir/c")]
    assert action.destination == SdPath.parse("cloud:dst/dir/")


def test_retry_of_failures_in_several_directories_skips_what_the_first_run_copied() -> None:
    state = _state(["/data/dir/"], "cloud:dst/")
    state.apply(FileDone("j1", "/data/dir/a", "cloud:dst/dir/a", 1, None, "verified", "streaming upload"))
    state.apply(FileFailed("j1", "/data/dir/x/b", "cloud:dst/dir/x/b", "network", "reset"))
    state.apply(FileFailed("j1", "/data/dir/y/c", "cloud:dst/dir/y/c", "network", "reset"))
    state.apply(JobFailed("j1", "network", "2 of 3 files failed", 1, 2))
    action = retry_action(state)
    assert action.sources == state.action.sources
    assert action.options.on_conflict == "skip"


def test_retry_after_cancel_keeps_an_overwrite_policy() -> None:
    state = _state(["/data/dir/"], "cloud:dst/", on_conflict="overwrite")
    state.apply(FileDone("j1", "/data/dir/a", "cloud:dst/dir/a", 1, None, "verified", "streaming upload"))
    state.apply(JobCancelled("j1", 1))
    assert retry_action(state) == state.action


def _journaled(action: dict[str, object]) -> JobInfo:
    now = datetime.now(UTC)
    return JobInfo("j1", now, now, "cancelled", action, "", 3, 1, 0, 30, 10)


def test_a_journaled_job_is_named_by_its_first_files() -> None:
    three = _action(["/data/p0.jpg", "/data/p1.jpg", "cloud:raw/"], "/home/me/")
    assert named_title(_journaled(three.to_dict())) == "Copy p0.jpg, p1.jpg and 1 more to /home/me/"
    assert named_title(_journaled(three.to_dict()), shown=3) == "Copy p0.jpg, p1.jpg, raw/ to /home/me/"
    two = _action(["/data/a.txt", "/data/b.txt"], "cloud:one/", delete_after_copy=True)
    assert named_title(_journaled(two.to_dict())) == "Move a.txt and b.txt to cloud:one/"
    delete = DeleteAction([SdPath.parse("cloud:old.bin")])
    assert named_title(_journaled(delete.to_dict())) == "Delete old.bin"
