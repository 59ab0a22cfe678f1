"""The hasher that follows a download: a check learnt while the download runs joins late and still covers every
byte, whatever the hasher had done by then."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from sdgui.core.copy.checks import BLAKE3, hash_all
from sdgui.core.copy.download.following_hash import PART_HASHERS, READ_SIZE, FollowingHasher

SIZE = 3 * READ_SIZE + 12_345
PARTS = (READ_SIZE + 1, READ_SIZE + 1, SIZE - 2 * (READ_SIZE + 1))
MANY_PARTS = (*(READ_SIZE // 2 + 7 for _ in range(5)), SIZE - 5 * (READ_SIZE // 2 + 7))
"""More parts than PART_HASHERS threads (a part smaller than a read, the last one longer)."""


@pytest.mark.parametrize("joins_at", [0, READ_SIZE // 2, 2 * READ_SIZE, SIZE])
@pytest.mark.parametrize("check", ["crc32", "sha256-composite"])
def test_a_check_added_late_covers_the_whole_file(tmp_path: Path, joins_at: int, check: str) -> None:
    data = os.urandom(SIZE)
    path = tmp_path / "download.part"
    path.write_bytes(data)
    hasher = FollowingHasher(str(path), [BLAKE3], SIZE)
    try:
        hasher.advance(joins_at)
        hasher.add([check], PARTS)
        assert hasher.names == [BLAKE3, check]
        got = hasher.result()
    finally:
        hasher.close()
    assert got == hash_all([data], [BLAKE3, check], SIZE, PARTS)


def test_a_check_added_after_the_result_changes_nothing(tmp_path: Path) -> None:
    data = os.urandom(1000)
    path = tmp_path / "download.part"
    path.write_bytes(data)
    hasher = FollowingHasher(str(path), [BLAKE3], len(data))
    first = hasher.result()
    hasher.add(["md5"])
    assert hasher.names == [BLAKE3]
    assert first == hash_all([data], [BLAKE3])


@pytest.mark.parametrize("check", ["md5", "md5-composite"])
def test_a_reset_starts_every_check_over_on_the_new_bytes(tmp_path: Path, check: str) -> None:
    first, second = os.urandom(SIZE), os.urandom(SIZE)
    path = tmp_path / "download.part"
    path.write_bytes(first)
    hasher = FollowingHasher(str(path), [BLAKE3, check], SIZE, MANY_PARTS)
    try:
        hasher.advance(2 * READ_SIZE)
        hasher.reset()
        path.write_bytes(second)
        hasher.advance(SIZE)
        got = hasher.result()
    finally:
        hasher.close()
    assert got == hash_all([second], [BLAKE3, check], SIZE, MANY_PARTS)


def test_a_composite_check_spreads_its_parts_over_threads(tmp_path: Path) -> None:
    """Parts hashed side by side, in any order, make the same digest of the parts' digests as hashing in order."""
    data = os.urandom(SIZE)
    path = tmp_path / "download.part"
    path.write_bytes(data)
    hasher = FollowingHasher(str(path), ["md5-composite"], SIZE, MANY_PARTS)
    try:
        assert sum(thread.name == "sdgui-hash-md5-composite" for thread in threading.enumerate()) == PART_HASHERS
        for front in range(0, SIZE + 1, READ_SIZE // 3):
            hasher.advance(front)
        got = hasher.result()
    finally:
        hasher.close()
    assert got == hash_all([data], ["md5-composite"], SIZE, MANY_PARTS)


def test_parts_that_do_not_add_up_to_the_file_never_match(tmp_path: Path) -> None:
    path = tmp_path / "download.part"
    data = os.urandom(SIZE)
    path.write_bytes(data)
    hasher = FollowingHasher(str(path), ["md5-composite"], SIZE, (*MANY_PARTS, 1))
    try:
        got = hasher.result()  # does not wait for bytes that never come
    finally:
        hasher.close()
    assert got["md5-composite"].startswith("short or long")
    assert got == hash_all([data], ["md5-composite"], SIZE, (*MANY_PARTS, 1))  # as the in-memory check says
