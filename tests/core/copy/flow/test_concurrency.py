"""ConcurrencyGate: AIMD (halve once per generation, add one back after a streak), blocking and cancel."""

from __future__ import annotations

import threading

import pytest

from sdgui.core import errors
from sdgui.core.cancel import CancelToken
from sdgui.core.copy.flow.concurrency import ChangeReason, ConcurrencyGate


def _gate(maximum: int = 16, recover_after: int = 3) -> tuple[ConcurrencyGate, list[tuple[int, ChangeReason]]]:
    changes: list[tuple[int, ChangeReason]] = []
    gate = ConcurrencyGate(maximum, recover_after=recover_after, on_change=lambda n, r: changes.append((n, r)))
    return gate, changes


def test_throttling_halves_once_per_generation_and_successes_add_back() -> None:
    gate, changes = _gate()
    token = CancelToken()
    generations = [gate.acquire(token) for _ in range(4)]
    for generation in generations:  # four files of one generation throttled together: one halving
        gate.throttled(generation)
        gate.release()
    assert gate.limit == 8 and changes == [(8, "throttled")]
    later = gate.acquire(token)
    gate.throttled(later)
    gate.release()
    assert gate.limit == 4
    for _ in range(3):
        gate.succeeded()
    assert gate.limit == 5 and changes[-1] == (5, "recovered")
    for _ in range(100):
        gate.succeeded()
    assert gate.limit == 16 and changes[-1] == (16, "recovered")


def test_the_limit_never_drops_below_one() -> None:
    gate, _ = _gate(maximum=3)
    token = CancelToken()
    for _ in range(5):
        generation = gate.acquire(token)
        gate.throttled(generation)
        gate.release()
    assert gate.limit == 1


def test_a_smaller_limit_holds_new_holders_until_others_leave() -> None:
    gate, _ = _gate(maximum=2)
    token = CancelToken()
    first = gate.acquire(token)
    gate.acquire(token)
    gate.throttled(first)  # limit 1 with 2 active
    entered = threading.Event()

    def third() -> None:
        gate.acquire(token)
        entered.set()
        gate.release()

    thread = threading.Thread(target=third)
    thread.start()
    gate.release()
    assert not entered.wait(0.3)  # one still active: 1 >= limit 1
    gate.release()
    assert entered.wait(5)
    thread.join(5)


def test_cancel_wakes_a_waiting_holder() -> None:
    gate, _ = _gate(maximum=1)
    token = CancelToken()
    gate.acquire(token)
    raised: list[BaseException] = []

    def waiter() -> None:
        try:
            gate.acquire(token)
        except errors.CancelledError as exc:
            raised.append(exc)

    thread = threading.Thread(target=waiter)
    thread.start()
    token.cancel()
    thread.join(5)
    assert not thread.is_alive() and len(raised) == 1


@pytest.mark.parametrize("maximum", [0, 1])
def test_degenerate_maximum(maximum: int) -> None:
    gate, _ = _gate(maximum=maximum)
    assert gate.limit == 1
