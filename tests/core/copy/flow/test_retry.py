"""RetryPolicy, Retry-After hints, the 'not retried' wording and progress across attempts."""

from __future__ import annotations

import random

import pytest

from sdgui.core import errors
from sdgui.core.copy.flow.retry import FileAttempts, RetryPolicy, not_retried
from sdgui.core.settings import TransferSettings


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    policy = RetryPolicy(attempts=5, base_s=0.5, cap_s=3.0)
    rng = random.Random(1)
    for attempt, ceiling in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 3.0), (9, 3.0)]:
        delays = [policy.backoff(attempt, rng) for _ in range(200)]
        assert min(delays) >= 0.0 and max(delays) <= ceiling
        assert max(delays) > ceiling * 0.8  # spread over the whole range, not a fixed wait


def test_retryable_errors_are_retried_until_the_attempts_run_out() -> None:
    policy = RetryPolicy.from_settings(TransferSettings(retry_attempts=3))
    network = errors.NetworkError("reset")
    assert policy.should_retry(network, 1) and policy.should_retry(network, 2)
    assert not policy.should_retry(network, 3)
    for never in (errors.CredentialsError("x"), errors.PermissionDeniedError("x"), errors.ChecksumMismatchError("x")):
        assert not policy.should_retry(never, 1)
    assert policy.should_retry(errors.ThrottledError("slow down"), 1)


def test_the_services_retry_after_wins_but_is_capped() -> None:
    policy = RetryPolicy(base_s=0.5, cap_s=10.0)
    hinted = errors.ThrottledError("HTTP 503 SlowDown", retry_after_s=4.0)
    assert hinted.retry_after_s == 4.0 and str(hinted).endswith("HTTP 503 SlowDown; retry after 4 s")
    assert policy.delay(hinted, 1) == 4.0
    assert policy.delay(errors.ThrottledError("HTTP 503", retry_after_s=90.0), 1) == 10.0
    # A number in the text is not a hint: only the field the backend filled counts.
    unhinted = errors.ThrottledError("HTTP 503 SlowDown; retry after 4 s")
    assert unhinted.retry_after_s is None
    assert 0.0 <= policy.delay(unhinted, 1) <= 0.5


def test_the_final_message_says_whether_it_was_retried() -> None:
    given_up = not_retried(errors.NetworkError("reset", path="/a"), 5)
    assert str(given_up).endswith("reset; gave up after 5 attempts")
    refused = not_retried(errors.CredentialsError("bad key", volume="cloud"), 1)
    assert "not retried" in str(refused) and str(refused).startswith("credentials error at volume cloud")
    assert refused.args == (str(refused),)
    assert refused.detail == "bad key"  # the note is the message's, not a rewrite of what the backend said


def test_progress_across_attempts_never_goes_back_nor_counts_twice() -> None:
    shown: list[int] = []
    tries = FileAttempts(100, shown.append)
    tries.progress.add(60)
    tries.next()
    tries.progress.add(40)  # the retry re-sends bytes the first attempt had shown
    assert sum(shown) == 60
    tries.progress.add(30)
    assert sum(shown) == 70
    tries.progress.add(30)
    assert sum(shown) == 99  # held below the size until confirmed
    tries.progress.confirm()
    assert sum(shown) == 100 and tries.count == 2
    assert all(delta > 0 for delta in shown)


@pytest.mark.parametrize("attempts", [0, -3])
def test_at_least_one_attempt(attempts: int) -> None:
    assert RetryPolicy.from_settings(TransferSettings(retry_attempts=attempts)).attempts == 1
