"""How one workload is measured: one Step per client, run interleaved (sd, s5, rc, sd, s5, rc, ...) with the
source in the page cache and the destination removed (or, for a download of many files, set aside) before every
run, so every run does the full work; plus the test data and the checks that a copy landed whole.
"""

from __future__ import annotations

import os
import shutil
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .clients import Client, Volume
from .processes import Measured, run_measured
from .servers import BenchError

MiB = 1024 * 1024
SMALL_SIZE = 64 * 1024
TINY_SIZE = 256  # the objects of the 100,000-object prefix


@dataclass
class Sizes:
    """How big one run is: the big file, the small-file count and the many-object prefix of W5/W6."""

    big_mib: int = 1024
    small_files: int = 1000
    many_objects: int = 100_000
    w6_budget_s: float = 20.0  # W6 stops each client after this long (Ctrl-C) and counts the files it finished


@dataclass
class Step:
    """One client's part of a workload."""

    cmd: list[str]
    env: dict[str, str]
    clean: Callable[[], None]
    check: Callable[[Measured], None]
    warm: Path | None = None
    mark: str | None = None
    budget_s: float | None = None


@dataclass
class Row:
    """One line of the table: a workload on a server, the runs of each client, and which figure counts.

    ``metric`` is "wall" (the whole command), "first_line" (W5: first line of output), "first_mark" (W6: first file
    done) or "rate" (W6: files finished per second).
    """

    workload: str
    label: str
    server: str
    metric: str = "wall"
    runs: dict[str, list[Measured]] = field(default_factory=dict)
    na: dict[str, str] = field(default_factory=dict)  # client -> why it cannot run this workload
    size_bytes: int = 0  # what one run moves, where a rate is shown (the sweep)

    def values(self, client: str) -> list[float]:
        return [v for v in (figure(m, self.metric) for m in self.runs.get(client, [])) if v is not None]

    def median(self, client: str) -> float | None:
        values = self.values(client)
        return statistics.median(values) if values else None

    @property
    def higher_is_better(self) -> bool:
        return self.metric == "rate"


def figure(m: Measured, metric: str) -> float | None:
    if metric == "wall":
        return m.wall_s
    if metric == "first_line":
        return m.first_line_s
    if metric == "first_mark":
        return m.first_mark_s
    if metric == "rate":
        elapsed = m.stopped_s if m.stopped_s is not None else m.wall_s
        return m.marks / elapsed if elapsed > 0 else None
    raise ValueError(metric)


@dataclass
class Bench:
    """What every workload of one run shares."""

    work: Path
    clients: list[Client]
    sizes: Sizes
    runs: int
    log: Path
    quiet: bool = False
    rows: list[Row] = field(default_factory=list)
    seeded: set[tuple[int, str]] = field(default_factory=set)

    def measure(self, row: Row, steps: dict[str, Step | None], *, also: list[Row] | None = None) -> Row:
        """Run every client's step ``runs`` times, interleaved; rows in ``also`` share the same runs."""
        for client in self.clients:
            if steps.get(client.name) is None:
                row.na.setdefault(client.name, "cannot")
        for i in range(self.runs):
            for client in self.clients:
                step = steps.get(client.name)
                if step is None:
                    continue
                step.clean()
                if step.warm is not None:
                    warm(step.warm)
                os.sync()  # flush the previous run's dirty pages, outside the timing
                pids = [s.pid for s in {id(v.server): v.server for v in client.volumes}.values()]
                m = run_measured(step.cmd, step.env, server_pids=pids, log=self.log, mark=step.mark,
                                 budget_s=step.budget_s)  # fmt: skip
                if m.stopped_s is None:
                    step.check(m)
                for r in [row, *(also or [])]:
                    r.runs.setdefault(client.name, []).append(m)
                if not self.quiet:
                    extra = f" first {m.first_line_s or m.first_mark_s or 0:.2f} s" if row.metric != "wall" else ""
                    print(
                        f"  {row.workload:<4} {row.server:<18} run {i + 1}/{self.runs} {client.name:<6}"
                        f" {m.wall_s:7.2f} s{extra}  cpu {m.cpu_s:5.1f} s  rss {m.maxrss_mb:5.0f} MB"
                        f"  server cpu {m.server_cpu_s:5.1f} s  load {os.getloadavg()[0]:4.1f}",
                        flush=True,
                    )
        for step in steps.values():
            if step is not None:
                step.clean()
        self.rows.extend([*(also or []), row])
        return row


# -- data ------------------------------------------------------------------------------------------------------------


def write_random_file(path: Path, size: int) -> None:
    """Incompressible bytes, written in 16 MiB blocks (one random block with a changing prefix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = bytearray(os.urandom(16 * MiB))
    with path.open("wb") as handle:
        written = n = 0
        while written < size:
            block[:8] = n.to_bytes(8, "little")  # no two blocks alike: dedup or caching cannot cheat
            piece = memoryview(block)[: min(len(block), size - written)]
            handle.write(piece)
            written += len(piece)
            n += 1


def write_small_files(directory: Path, count: int, size: int) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    data = os.urandom(size + count)
    for i in range(count):
        (directory / f"f{i:06d}.bin").write_bytes(data[i : i + size])


def warm(path: Path) -> None:
    """Read a file or every file under a directory, so it sits in the page cache."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for file in files:
        with file.open("rb", buffering=0) as handle:
            while handle.read(8 * MiB):
                pass


def remove_local(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def local_summary(path: Path) -> tuple[int, int]:
    if path.is_file():
        return 1, path.stat().st_size
    files = [f for f in path.rglob("*") if f.is_file()] if path.exists() else []
    return len(files), sum(f.stat().st_size for f in files)


def expect(what: str, got: tuple[int, int], want: tuple[int, int]) -> None:
    if got != want:
        raise BenchError(f"{what} is incomplete: {got} (files, bytes) instead of {want}")


def expect_local(path: Path, want: tuple[int, int]) -> Callable[[Measured], None]:
    return lambda m: expect(str(path), local_summary(path), want)


def expect_remote(vol: Volume, prefix: str, want: tuple[int, int]) -> Callable[[Measured], None]:
    return lambda m: expect(f"{vol.name}:{prefix}", vol.server.count_prefix(prefix), want)


def seed(bench: Bench, vol: Volume, source: Path, key: str) -> None:
    """Put ``source`` (a file, or a directory's files) at ``key`` with s5cmd, outside any timing."""
    from .clients import S5cmd

    s5 = S5cmd(bench.work, [vol])
    cmd = s5.upload_dir(source, vol, key) if source.is_dir() else s5.upload(source, vol, key)
    run_measured(cmd, s5.env_for(vol), server_pids=[], log=bench.log)
