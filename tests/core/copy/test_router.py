"""The router's table: every pair of volume kinds picks the right strategy."""

from __future__ import annotations

import pytest

from sdgui.core.backends.base import S3_SINGLE_COPY_LIMIT, Capabilities
from sdgui.core.copy.router import select_strategy

LOCAL = Capabilities(is_local=True)
S3 = Capabilities(is_local=False, server_side_copy=True, server_side_copy_max=S3_SINGLE_COPY_LIMIT, range_reads=True)
NO_COPY = Capabilities(is_local=False, server_side_copy=False)
UNLIMITED = Capabilities(is_local=False, server_side_copy=True)


@pytest.mark.parametrize(
    ("src_volume", "src", "dst_volume", "dst", "size", "expected"),
    [
        (None, LOCAL, None, LOCAL, 10, "local copy"),
        (None, LOCAL, "photos", LOCAL, 10, "local copy"),
        (None, LOCAL, "s3", S3, 10, "streaming upload"),
        ("s3", S3, None, LOCAL, 10, "streaming download"),
        ("s3", S3, "s3", S3, 10, "server-side copy"),
        ("s3", S3, "s3", S3, None, "server-side copy"),
        ("s3", S3, "s3", S3, S3_SINGLE_COPY_LIMIT, "server-side copy"),
        ("s3", S3, "s3", S3, S3_SINGLE_COPY_LIMIT + 1, "cross-volume streaming"),
        ("s3", S3, "r2", S3, 10, "cross-volume streaming"),
        ("nc", NO_COPY, "nc", NO_COPY, 10, "cross-volume streaming"),
        ("gcs", UNLIMITED, "gcs", UNLIMITED, 50 * 1024**3, "server-side copy"),
    ],
)
def test_select_strategy(
    src_volume: str | None,
    src: Capabilities,
    dst_volume: str | None,
    dst: Capabilities,
    size: int | None,
    expected: str,
) -> None:
    assert select_strategy(src_volume, src, dst_volume, dst, size).name == expected
