"""Python slots: at most ``limit`` workers run Python at once, a worker waiting on a request holds none, and a
job of many files never has a worker wait out the soft limit (which would mean a lock held across a slot wait)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from sdgui.core.python_slots import SLOTS, PythonSlots
from tests.copying import add_volume, read_object, run_copy
from tests.servers import S3Server

WAIT_S = 10.0  # generous bounds for events that come at once


def test_no_more_than_the_limit_hold_a_slot_at_once() -> None:
    slots = PythonSlots(2)
    inside = threading.Semaphore(0)
    leave = threading.Event()
    most = 0
    lock = threading.Lock()

    def worker() -> None:
        nonlocal most
        with slots.held():
            with lock:
                most = max(most, slots.busy)
            inside.release()
            assert leave.wait(WAIT_S)

    threads = [threading.Thread(target=worker) for _ in range(5)]
    for thread in threads:
        thread.start()
    assert inside.acquire(timeout=WAIT_S) and inside.acquire(timeout=WAIT_S)
    assert not inside.acquire(timeout=0.2)  # a third worker waits for a slot
    assert slots.busy == 2
    leave.set()
    for thread in threads:
        thread.join(WAIT_S)
    assert most == 2
    assert slots.busy == 0
    assert slots.overruns == 0


def test_a_worker_waiting_on_a_request_lets_another_run() -> None:
    slots = PythonSlots(1)
    requesting, answered, other_ran = threading.Event(), threading.Event(), threading.Event()

    def waits_on_the_network() -> None:
        with slots.held():
            with slots.released():
                requesting.set()
                assert answered.wait(WAIT_S)
            assert slots.held_here  # back with a slot for what follows the answer

    def runs_meanwhile() -> None:
        assert requesting.wait(WAIT_S)
        with slots.held():
            other_ran.set()

    threads = [threading.Thread(target=waits_on_the_network), threading.Thread(target=runs_meanwhile)]
    for thread in threads:
        thread.start()
    assert other_ran.wait(WAIT_S)
    answered.set()
    for thread in threads:
        thread.join(WAIT_S)
    assert slots.busy == 0


def test_released_and_held_are_no_ops_where_they_do_not_apply() -> None:
    slots = PythonSlots(1)
    with slots.released():  # not a worker: nothing to give back
        assert slots.busy == 0
    with slots.held(), slots.held():  # re-entrant
        assert slots.busy == 1
    assert slots.busy == 0


def test_a_worker_that_waited_long_enough_runs_without_a_slot() -> None:
    """The soft limit: a lock held across a slot wait costs time, never a hang."""
    slots = PythonSlots(1, wait_limit_s=0.05)
    hold, held = threading.Event(), threading.Event()

    def holder() -> None:
        with slots.held():
            held.set()
            assert hold.wait(WAIT_S)

    thread = threading.Thread(target=holder)
    thread.start()
    assert held.wait(WAIT_S)
    with slots.held():
        assert not slots.held_here
    assert slots.overruns == 1
    hold.set()
    thread.join(WAIT_S)
    assert slots.busy == 0


@pytest.mark.parametrize("on_conflict", ["overwrite", "rename"])
def test_a_job_of_many_small_files_never_outwaits_a_slot(rclone_s3: S3Server, tmp_path: Path, on_conflict: str) -> None:
    """Every file lists or writes through the network while other workers wait for the destination index's lock:
    a worker that waited for its slot while holding that lock made the others wait out the soft limit."""
    bucket = rclone_s3.new_bucket()
    add_volume(rclone_s3, bucket)
    source = tmp_path / "many"
    source.mkdir()
    for i in range(300):
        (source / f"f{i:03d}.bin").write_bytes(os.urandom(1024))
    before = SLOTS.overruns

    first = run_copy([str(source)], "cloud:", on_conflict=on_conflict)
    again = run_copy([str(source)], "cloud:", on_conflict=on_conflict)  # every name taken now
    (tmp_path / "back").mkdir()
    down = run_copy(["cloud:many"], str(tmp_path / "back"))

    assert first.final.type == again.final.type == down.final.type == "job_finished"
    assert len(first.of("file_done")) == len(again.of("file_done")) == 300
    renamed = on_conflict == "rename"
    assert len(down.of("file_done")) == (600 if renamed else 300)
    if renamed:
        assert read_object(rclone_s3, bucket, "many/f299 (1).bin") == (source / "f299.bin").read_bytes()
    assert read_object(rclone_s3, bucket, "many/f299.bin") == (source / "f299.bin").read_bytes()
    assert (tmp_path / "back" / "many" / "f123.bin").read_bytes() == (source / "f123.bin").read_bytes()
    assert SLOTS.overruns == before, "a worker waited for a Python slot while holding a lock"
    assert SLOTS.busy == 0
