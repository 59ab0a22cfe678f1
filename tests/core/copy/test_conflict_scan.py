"""find_conflicts looks at the destination as it is now: by stat for a few names, by one listing for many."""

from __future__ import annotations

from pathlib import Path

import pytest

from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.conflict_scan import LIST_ABOVE, find_conflicts
from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeRegistry
from tests.copying import add_volume, write_tree
from tests.servers import S3Server

pytestmark = pytest.mark.timeout(60)


def local(path: Path, *, is_dir: bool = False) -> SdPath:
    return SdPath(None, str(path), is_dir)


@pytest.mark.parametrize("count", [3, LIST_ABOVE + 4], ids=["stat-each", "one-listing"])
def test_conflicts_on_a_bucket_carry_both_stats(moto_s3: S3Server, tmp_path: Path, count: int) -> None:
    bucket = moto_s3.new_bucket()
    add_volume(moto_s3, bucket)
    names = [f"f{i}.bin" for i in range(count)]
    write_tree(tmp_path, {f"src/{name}": b"s" * (i + 1) for i, name in enumerate(names)})
    write_tree(tmp_path, {"src/folder/inner.txt": b"x", "src/lonely/inner.txt": b"y"})
    client = moto_s3.client()
    client.put_object(Bucket=bucket, Key="d/f1.bin", Body=b"theirs!")
    client.put_object(Bucket=bucket, Key="d/folder/other.txt", Body=b"z")
    client.put_object(Bucket=bucket, Key="d/unrelated.txt", Body=b"u")
    sources = [local(tmp_path / "src" / name) for name in names]
    sources += [local(tmp_path / "src/folder", is_dir=True), local(tmp_path / "src/lonely", is_dir=True)]

    conflicts = find_conflicts(BackendCache(VolumeRegistry()), sources, SdPath.parse("cloud:d/"))

    assert [(c.source.name, c.is_folder) for c in conflicts] == [("f1.bin", False), ("folder", True)]
    file_conflict = conflicts[0]
    assert file_conflict.existing.size == len(b"theirs!") and file_conflict.existing.modified is not None
    assert file_conflict.source_entry is not None and file_conflict.source_entry.size == 2


def test_a_missing_destination_folder_has_no_conflicts_and_a_gone_source_has_no_stat(tmp_path: Path) -> None:
    write_tree(tmp_path, {"dst/a.txt": b"there"})
    backends = BackendCache(VolumeRegistry())
    assert find_conflicts(backends, [local(tmp_path / "a.txt")], local(tmp_path / "nowhere", is_dir=True)) == []

    [conflict] = find_conflicts(backends, [local(tmp_path / "a.txt")], local(tmp_path / "dst", is_dir=True))

    assert conflict.existing.size == 5
    assert conflict.source_entry is None  # the source is not there: the prompt says "size unknown"
