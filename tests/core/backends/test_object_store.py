"""ObjectStoreBackend against real servers: streamed listing pages, stat metadata, ranges, writes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from sdgui.core import errors
from sdgui.core.backends.base import RangeNotSupportedError
from sdgui.core.backends.factory import backend_for_config
from sdgui.core.backends.object_store import ObjectStoreBackend
from tests.copying import add_volume
from tests.servers import S3Server


@pytest.fixture
def backend(s3_server: S3Server, bucket: str) -> ObjectStoreBackend:
    b = backend_for_config(add_volume(s3_server, bucket))
    assert isinstance(b, ObjectStoreBackend)
    return b


def _fill(server: S3Server, bucket: str, keys: list[str]) -> None:
    client = server.client()
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda k: client.put_object(Bucket=bucket, Key=k, Body=k.encode()), keys))


def test_children_listing_streams_pages_and_skips_deep_trees(
    backend: ObjectStoreBackend, s3_server: S3Server, bucket: str
) -> None:
    files = [f"top/f{i:04d}.txt" for i in range(250)]
    deep = [f"top/deep/{i:04d}/x.txt" for i in range(300)]
    _fill(s3_server, bucket, [*files, *deep, "top/zz-last.txt", "other.txt"])
    pages = list(backend.list("top", page_size=100))
    assert all(len(page) <= 100 for page in pages)
    assert len(pages) >= 3, "listing must arrive in pages, not all at once"
    entries = [e for page in pages for e in page]
    names = [e.key for e in entries]
    assert names.count("top/deep") == 1
    assert next(e for e in entries if e.key == "top/deep").is_dir
    assert sorted(n for n in names if n != "top/deep") == sorted([*files, "top/zz-last.txt"])


def test_recursive_listing_and_is_dir(backend: ObjectStoreBackend, s3_server: S3Server, bucket: str) -> None:
    _fill(s3_server, bucket, ["a/b/c.txt", "a/d.txt", "e.txt"])
    keys = sorted(e.key for page in backend.list("a", recursive=True) for e in page)
    assert keys == ["a/b/c.txt", "a/d.txt"]
    assert backend.is_dir("a") and backend.is_dir("a/b")
    assert not backend.is_dir("e.txt") and not backend.is_dir("nothing")


def test_stat_reads_user_metadata(backend: ObjectStoreBackend) -> None:
    backend.write("m.txt", [b"abc"], size=3, metadata={"sdgui-blake3": "ff00", "mtime": "1700000000.25"})
    entry = backend.stat("m.txt")
    assert entry.size == 3 and entry.blake3 == "ff00" and entry.mtime == 1700000000.25
    with pytest.raises(errors.NotFoundError, match=r"cloud:missing\.txt"):
        backend.stat("missing.txt")


def test_read_range_or_a_clear_refusal(backend: ObjectStoreBackend, s3_server: S3Server) -> None:
    backend.write("r.bin", [bytes(range(256)) * 40], size=10240)
    try:
        data = b"".join(backend.read_range("r.bin", 100, 200))
    except RangeNotSupportedError:
        assert s3_server.name == "rclone", "only rclone serve s3 ignores ranges"
        return
    assert data == (bytes(range(256)) * 40)[100:200]


def test_failed_before_commit_aborts_the_write(backend: ObjectStoreBackend, s3_server: S3Server, bucket: str) -> None:
    def refuse() -> None:
        raise errors.ChecksumMismatchError("refused by test")

    big = [b"x" * (4 * 1024 * 1024)] * 6
    with pytest.raises(errors.ChecksumMismatchError):
        backend.write("aborted.bin", big, size=24 * 1024 * 1024, before_commit=refuse)
    assert s3_server.open_multipart_uploads(bucket) == []
    with pytest.raises(errors.NotFoundError):
        backend.stat("aborted.bin")


def test_prefix_volume_keeps_keys_relative(s3_server: S3Server, bucket: str) -> None:
    config = add_volume(s3_server, bucket)
    config.prefix = "base/inner"
    b = backend_for_config(config)
    b.write("k.txt", [b"k"], size=1)
    assert s3_server.client().get_object(Bucket=bucket, Key="base/inner/k.txt")["Body"].read() == b"k"
    assert [e.key for page in b.list("") for e in page] == ["k.txt"]


def test_folder_markers_list_as_directories(backend: ObjectStoreBackend, s3_server: S3Server, bucket: str) -> None:
    if s3_server.name == "rclone":
        pytest.skip("rclone serve s3 keeps a marker as a directory and lists it as a zero-byte object 'empty'")
    backend.make_dir("empty")
    backend.write("zero.txt", [b""], size=0)
    keys = [o["Key"] for o in s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]]
    assert sorted(keys) == ["empty/", "zero.txt"]
    children = {e.key: e.is_dir for page in backend.list("") for e in page}
    assert children == {"empty": True, "zero.txt": False}
    # Recursively: the file, and the empty folder its marker stands for (a copy makes the folder again).
    assert {e.key: e.is_dir for page in backend.list("", recursive=True) for e in page} == {
        "empty": True,
        "zero.txt": False,
    }


@pytest.mark.parametrize(("empties", "page_size"), [(3, 7), (40, 50)])
def test_many_empty_files_and_markers_in_one_page(
    backend: ObjectStoreBackend, s3_server: S3Server, bucket: str, empties: int, page_size: int
) -> None:
    """A page with a few (HEADed) or many (listed once) zero-byte objects: each empty file stays a file and each
    marker a folder, whichever way they are told apart, with other keys between them and a page boundary inside."""
    if s3_server.name == "rclone":
        pytest.skip("rclone serve s3 keeps a marker as a directory and lists it as a zero-byte object")
    client = s3_server.client()
    expected: dict[str, bool] = {}
    for i in range(empties):
        client.put_object(Bucket=bucket, Key=f"d/e{i:03}.txt", Body=b"")
        expected[f"e{i:03}.txt"] = False
        if i % 4 == 0:
            client.put_object(Bucket=bucket, Key=f"d/m{i:03}/", Body=b"")
            expected[f"m{i:03}"] = True
            client.put_object(Bucket=bucket, Key=f"d/f{i:03}.bin", Body=b"x")
            expected[f"f{i:03}.bin"] = False
    children = {e.name: e.is_dir for page in backend.list("d", page_size=page_size) for e in page}
    assert children == expected
    recursive = {e.key: e.is_dir for page in backend.list("d", recursive=True, page_size=page_size) for e in page}
    assert recursive == {f"d/{name}": is_dir for name, is_dir in expected.items()}
