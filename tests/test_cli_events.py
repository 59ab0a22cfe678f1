"""The CLI's job runner: the job's threads queue their events; the main thread shows them, in order, one at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pytest

from sdgui.cli_jobs import run_cancellable
from sdgui.core.copy.events import JobCancelled, JobEvent, JobFinished, Progress

PRODUCERS = 4
EACH = 250


def _progress(producer: int, n: int) -> Progress:
    return Progress(f"p{producer}", "transferring", "", n, EACH, 0, 0, 0.0, None)


class ThreadedJob:
    """Emits ``EACH`` progress events from each of ``PRODUCERS`` threads at once, as a job's workers do."""

    def __init__(self) -> None:
        self.cancelled = threading.Event()

    def run(self, sink: Callable[[JobEvent], None]) -> JobEvent:
        def produce(producer: int) -> None:
            for n in range(EACH):
                sink(_progress(producer, n))

        threads = [threading.Thread(target=produce, args=(p,)) for p in range(PRODUCERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        final = JobFinished("job", PRODUCERS * EACH, 0, 0, 0.0, 0, 0, 0)
        sink(final)
        return final

    def cancel(self) -> None:
        self.cancelled.set()


def test_events_are_shown_on_the_calling_thread_in_each_producers_order() -> None:
    shown: list[tuple[str, JobEvent]] = []
    final = run_cancellable(ThreadedJob(), lambda e: shown.append((threading.current_thread().name, e)))
    assert final.type == "job_finished"
    assert {name for name, _ in shown} == {threading.current_thread().name}
    assert shown[-1][1] is final  # the last event is shown before the runner returns
    for producer in range(PRODUCERS):
        ns = [e.bytes_done for _, e in shown if isinstance(e, Progress) and e.job_id == f"p{producer}"]
        assert ns == list(range(EACH))


def test_a_failing_listener_does_not_stop_the_job(caplog: pytest.LogCaptureFixture) -> None:
    def sink(event: JobEvent) -> None:
        raise ValueError("broken listener")

    with caplog.at_level(logging.ERROR, logger="sdgui.cli_jobs"):
        final = run_cancellable(ThreadedJob(), sink)
    assert final.type == "job_finished"
    assert "event listener failed" in caplog.text


def test_a_job_that_raises_raises_here_after_its_events() -> None:
    class Failing:
        def run(self, sink: Callable[[JobEvent], None]) -> JobEvent:
            sink(JobCancelled("job"))
            raise RuntimeError("the job broke")

        def cancel(self) -> None:
            pass

    shown: list[JobEvent] = []
    with pytest.raises(RuntimeError, match="the job broke"):
        run_cancellable(Failing(), shown.append)
    assert [e.type for e in shown] == ["job_cancelled"]


class WaitsToBeSeen:
    """Emits one event and waits until the runner has shown it, then a burst of events and the end."""

    def __init__(self, seen: threading.Event) -> None:
        self.seen = seen
        self.waited = False

    def run(self, sink: Callable[[JobEvent], None]) -> JobEvent:
        sink(_progress(0, 0))
        self.waited = self.seen.wait(5.0)  # shown while the job still runs, not held for a batch
        for n in range(1, EACH):
            sink(_progress(0, n))
        final = JobFinished("job", EACH, 0, 0, 0.0, 0, 0, 0)
        sink(final)
        return final

    def cancel(self) -> None:
        pass


def test_the_first_event_shows_at_once_and_a_burst_follows_in_order() -> None:
    seen = threading.Event()
    shown: list[JobEvent] = []

    def sink(event: JobEvent) -> None:
        shown.append(event)
        seen.set()

    job = WaitsToBeSeen(seen)
    final = run_cancellable(job, sink)
    assert job.waited
    assert [e.bytes_done for e in shown if isinstance(e, Progress)] == list(range(EACH))
    assert shown[-1] is final
