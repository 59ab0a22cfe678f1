"""SizeSlots: many tiny files at once, few that are held whole in memory, fewer large ones."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sdgui.core.copy.flow.size_slots import MEDIUM_FILES_AT_ONCE, SizeSlots
from sdgui.core.settings import MiB, TransferSettings


def _most_at_once(slots: SizeSlots, size: int, workers: int, expected: int) -> int:
    """How many of ``workers`` threads held a slot for ``size`` at the same time: each one that gets in stays
    until ``expected`` are in (or 0.5 s pass, which is what a limit below ``expected`` looks like)."""
    changed = threading.Condition()
    inside = most = 0
    everyone = threading.Barrier(workers, timeout=10)

    def one() -> None:
        nonlocal inside, most
        everyone.wait()
        with slots.held(size), changed:
            inside += 1
            most = max(most, inside)
            changed.notify_all()
            changed.wait_for(lambda: most >= expected, timeout=0.5)
            inside -= 1

    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(one) for _ in range(workers)]:
            future.result()
    return most


def test_tiny_files_are_limited_by_the_pool_alone() -> None:
    assert _most_at_once(SizeSlots(TransferSettings()), 64 * 1024, 40, expected=40) == 40


def test_files_held_in_memory_share_sixteen_slots() -> None:
    most = _most_at_once(SizeSlots(TransferSettings()), 2 * MiB, 20, expected=MEDIUM_FILES_AT_ONCE + 1)
    assert most == MEDIUM_FILES_AT_ONCE


def test_large_files_share_the_large_file_slots() -> None:
    settings = TransferSettings(large_file_slots=2, multipart_threshold=16 * MiB)
    assert _most_at_once(SizeSlots(settings), 17 * MiB, 4, expected=3) == 2
