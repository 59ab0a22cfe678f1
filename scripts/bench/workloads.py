"""The workloads, each measured for sdgui, s5cmd and rclone on one server (W4: from one server to another).

W1/W1d one big file up and down; W2/W2d many 64 KiB files up and down; W3 a server-side copy of the big file on
one volume; W4 the big file and the small files from one server to another; W5 `ls` of a 100,000-object prefix
(first line, all lines); W6 a download of that prefix (first file done, files/s in a time box).
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from .clients import Client, Volume
from .harness import (
    TINY_SIZE,
    Bench,
    Row,
    Step,
    expect,
    expect_local,
    expect_remote,
    local_summary,
    remove_local,
    seed,
    write_small_files,
)
from .processes import Measured
from .servers import BenchError

BIG_KEY = "seed/big.bin"
SMALL_PREFIX = "seed/small"
MANY_PREFIX = "many"
WORKLOADS = ("W1", "W1d", "W2", "W2d", "W3", "W4", "W5", "W6")


def _dl_dir(bench: Bench, client: Client) -> Path:
    return bench.work / "dl" / client.name


def _fresh_local(path: Path) -> None:
    remove_local(path)
    path.mkdir(parents=True)


def _fresh_local_many(bench: Bench, path: Path) -> None:
    """A fresh folder for a download of many files; the last run's is set aside, and goes with the work dir when
    the bench ends. This ext4 has no journal, and in that mode a new inode skips every inode freed in the last
    1-5 minutes, read from disk one by one: deleting the last run's thousands of files here made the next
    client's file creation cost seconds more of system time, whichever client it was."""
    if path.exists():
        aside = bench.work / "set-aside"
        aside.mkdir(exist_ok=True)
        path.rename(aside / f"{path.name}-{sum(1 for _ in aside.iterdir())}")
    path.mkdir(parents=True)


def _ensure_seeded(bench: Bench, vol: Volume, source: Path, key: str) -> None:
    """Seed once per server and run (a proxied volume shares its server's objects)."""
    done = (id(vol.server), key)
    if done not in bench.seeded:
        seed(bench, vol, source, key)
        bench.seeded.add(done)


def w1_upload(bench: Bench, vol: Volume, big: Path) -> None:
    steps: dict[str, Step | None] = {}
    for c in bench.clients:
        prefix = f"w1-{c.name}"
        steps[c.name] = Step(
            cmd=c.upload(big, vol, f"{prefix}/{big.name}") or [],
            env=c.env_for(vol),
            clean=partial(vol.server.delete_prefix, prefix),
            check=expect_remote(vol, prefix, local_summary(big)),
            warm=big,
        )
    bench.measure(Row("W1", f"{_mib(big)} upload", vol.shown), steps)


def w1d_download(bench: Bench, vol: Volume, big: Path) -> None:
    _ensure_seeded(bench, vol, big, BIG_KEY)
    steps: dict[str, Step | None] = {}
    for c in bench.clients:
        target = _dl_dir(bench, c)
        steps[c.name] = Step(
            cmd=c.download(vol, BIG_KEY, target / big.name) or [],
            env=c.env_for(vol),
            clean=partial(_fresh_local, target),
            check=expect_local(target, local_summary(big)),
        )
    bench.measure(Row("W1d", f"{_mib(big)} download", vol.shown), steps)


def w2_upload_small(bench: Bench, vol: Volume, small: Path) -> None:
    steps: dict[str, Step | None] = {}
    for c in bench.clients:
        prefix = f"w2-{c.name}"
        steps[c.name] = Step(
            cmd=c.upload_dir(small, vol, prefix) or [],
            env=c.env_for(vol),
            clean=partial(vol.server.delete_prefix, prefix),
            check=expect_remote(vol, prefix, local_summary(small)),
            warm=small,
        )
    bench.measure(Row("W2", f"{_count(small)} x 64 KiB upload", vol.shown), steps)


def w2d_download_small(bench: Bench, vol: Volume, small: Path) -> None:
    _ensure_seeded(bench, vol, small, SMALL_PREFIX)
    steps: dict[str, Step | None] = {}
    for c in bench.clients:
        target = _dl_dir(bench, c)
        steps[c.name] = Step(
            cmd=c.download_dir(vol, SMALL_PREFIX, target) or [],
            env=c.env_for(vol),
            clean=partial(_fresh_local_many, bench, target),
            check=expect_local(target, local_summary(small)),
        )
    bench.measure(Row("W2d", f"{_count(small)} x 64 KiB download", vol.shown), steps)


def w3_same_volume(bench: Bench, vol: Volume, big: Path) -> None:
    _ensure_seeded(bench, vol, big, BIG_KEY)
    steps: dict[str, Step | None] = {}
    for c in bench.clients:
        prefix = f"w3-{c.name}"
        cmd = c.copy(vol, BIG_KEY, vol, f"{prefix}/{big.name}")
        steps[c.name] = None if cmd is None else Step(
            cmd=cmd,
            env=c.env_for(vol),
            clean=partial(vol.server.delete_prefix, prefix),
            check=expect_remote(vol, prefix, local_summary(big)),
        )  # fmt: skip
    bench.measure(Row("W3", f"{_mib(big)} copy, same volume", vol.shown), steps)


def w4_cross(bench: Bench, src: Volume, dst: Volume, big: Path, small: Path) -> None:
    """The big file and the small files from one server to another: through the client, server-side is impossible."""
    label = f"{src.shown}→{dst.shown}"
    for source, key, what in (
        (big, BIG_KEY, f"{_mib(big)} copy"),
        (small, SMALL_PREFIX, f"{_count(small)} x 64 KiB copy"),
    ):
        _ensure_seeded(bench, src, source, key)
        steps: dict[str, Step | None] = {}
        for c in bench.clients:
            prefix = f"w4-{c.name}"
            cmd = (
                c.copy(src, key, dst, f"{prefix}/{big.name}") if source.is_file() else c.copy_dir(src, key, dst, prefix)
            )
            steps[c.name] = None if cmd is None else Step(
                cmd=cmd,
                env=c.env_for(src),
                clean=partial(dst.server.delete_prefix, prefix),
                check=expect_remote(dst, prefix, local_summary(source)),
            )  # fmt: skip
        row = Row("W4", f"{what}, across servers", label)
        row.na["s5cmd"] = "one endpoint per call"
        bench.measure(row, steps)


def seed_many(bench: Bench, vol: Volume, count: int) -> None:
    """The W5/W6 prefix: ``count`` tiny objects, uploaded by s5cmd from a local folder (its 256 workers)."""
    if vol.server.count_prefix(MANY_PREFIX)[0] == count:
        return
    source = bench.work / "many-src"
    write_small_files(source, count, TINY_SIZE)
    try:
        seed(bench, vol, source, MANY_PREFIX)
    finally:
        remove_local(source)
    got = vol.server.count_prefix(MANY_PREFIX)[0]
    if got != count:
        raise BenchError(f"seeding {count} objects under {MANY_PREFIX}/ left {got}")


def write_many_into(bucket_dir: Path, count: int) -> None:
    """The W5/W6 prefix straight into the folder `rclone serve s3` serves (before it starts: it caches dirs)."""
    target = bucket_dir / MANY_PREFIX
    if local_summary(target)[0] != count:
        remove_local(target)
        write_small_files(target, count, TINY_SIZE)


def w5_ls(bench: Bench, vol: Volume, count: int) -> None:
    steps: dict[str, Step | None] = {}

    def check(m: Measured) -> None:
        expect(f"ls of {vol.name}:{MANY_PREFIX}/", (m.lines, 0), (count, 0))

    for c in bench.clients:
        cmd = c.ls(vol, MANY_PREFIX)
        steps[c.name] = None if cmd is None else Step(cmd=cmd, env=c.env_for(vol), clean=lambda: None, check=check)
    what = f"ls of {count:,} objects"
    first = Row("W5", f"{what}: first line", vol.shown, metric="first_line")
    bench.measure(Row("W5", f"{what}: all lines", vol.shown), steps, also=[first])


def w6_many_download(bench: Bench, vol: Volume, count: int) -> None:
    steps: dict[str, Step | None] = {}
    budget = bench.sizes.w6_budget_s
    for c in bench.clients:
        target = _dl_dir(bench, c)
        steps[c.name] = Step(
            cmd=c.download_dir(vol, MANY_PREFIX, target, report_files=True) or [],
            env=c.env_for(vol),
            clean=partial(_fresh_local_many, bench, target),
            check=expect_local(target, (count, count * TINY_SIZE)),
            mark=c.mark,
            budget_s=budget,
        )
    what = f"download of {count:,} objects"
    first = Row("W6", f"{what}: first file", vol.shown, metric="first_mark")
    bench.measure(Row("W6", f"{what}: files/s (first {budget:.0f} s)", vol.shown, metric="rate"), steps, also=[first])


def _mib(path: Path) -> str:
    size = path.stat().st_size
    return f"{size // (1024 * 1024 * 1024)} GiB" if size >= 1024**3 else f"{size // (1024 * 1024)} MiB"


def _count(directory: Path) -> str:
    return f"{sum(1 for _ in directory.iterdir()):,}"
