"""Running one client command and measuring it: wall time, time to its first (and first marked) output line,
CPU seconds of the process tree, peak RSS, and the CPU the server spent meanwhile."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .servers import ROOT, BenchError, process_cpu_s

MB = 10**6
RUN_TIMEOUT_S = 1800.0
TAIL_CHARS = 4000


@dataclass
class Measured:
    """One finished client process."""

    wall_s: float
    first_line_s: float | None  # first line on stdout
    first_mark_s: float | None  # first line (stdout or stderr) matching the step's marker, e.g. "one file done"
    lines: int  # stdout lines
    marks: int  # lines matching the marker (files done)
    stopped_s: float | None  # when the time box stopped it (SIGINT), None if it ran to its end
    cpu_s: float  # user + sys of the process and the children it waited for (wait4)
    maxrss_mb: float  # peak resident set (VmHWM) of the process itself
    server_cpu_s: float


class MemoryPoller:
    """Samples VmHWM from /proc/PID/status while a child runs.

    wait4's ru_maxrss cannot be used: a child inherits its parent's RSS at fork as the floor of its maximum.
    VmHWM is the kernel's high-water mark of the child's own address space, reset at exec; sampling every 20 ms
    misses only growth in the child's last 20 ms.
    """

    INTERVAL_S = 0.02

    def __init__(self, pid: int) -> None:
        self.path = Path(f"/proc/{pid}/status")
        self.hwm_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-mem", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, ValueError, IndexError):
                for line in self.path.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        self.hwm_kib = max(self.hwm_kib, int(line.split()[1]))
                        break
            self._stop.wait(self.INTERVAL_S)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class LineWatcher:
    """Reads one pipe of the child line by line: when the first line came, the first line matching ``mark``,
    how many lines, and the tail of the text (for error messages)."""

    def __init__(self, stream: IO[bytes], started: float, mark: re.Pattern[bytes] | None, log: IO[bytes]) -> None:
        self.stream = stream
        self.started = started
        self.mark = mark
        self.log = log
        self.first_line_s: float | None = None
        self.first_mark_s: float | None = None
        self.lines = 0
        self.marks = 0
        self.tail = b""
        self._thread = threading.Thread(target=self._run, name="bench-lines", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        for line in self.stream:
            now = time.perf_counter() - self.started
            if self.first_line_s is None:
                self.first_line_s = now
            if self.mark is not None and self.mark.search(line):
                self.marks += 1
                if self.first_mark_s is None:
                    self.first_mark_s = now
            self.lines += 1
            self.tail = (self.tail + line)[-TAIL_CHARS:]
            if self.lines <= 50:  # enough to debug; 100,000 listing lines would only fill the disk
                self.log.write(line)

    def join(self) -> None:
        self._thread.join()


def run_measured(
    cmd: list[str],
    env: dict[str, str],
    *,
    server_pids: list[int | None],
    log: Path,
    mark: str | None = None,
    budget_s: float | None = None,
) -> Measured:
    """Run ``cmd`` to its end, or until ``budget_s`` (then Ctrl-C, as a user would), and measure it; BenchError
    (with the tails of its output) if it fails."""
    pattern = re.compile(mark.encode()) if mark else None
    server_before = sum(process_cpu_s(pid) for pid in server_pids)
    with log.open("ab") as logf:
        logf.write(f"\n$ {' '.join(cmd)}\n".encode())
        logf.flush()
        started = time.perf_counter()
        # A session of its own, so an interruption can kill the child together with anything it started.
        process = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            cwd=ROOT,
            start_new_session=True,
        )
        assert process.stdout is not None and process.stderr is not None
        poller = MemoryPoller(process.pid)
        out = LineWatcher(process.stdout, started, pattern, logf)
        err = LineWatcher(process.stderr, started, pattern, logf)
        watchdog = threading.Timer(RUN_TIMEOUT_S, process.kill)
        watchdog.start()
        stopped: list[float] = []

        def interrupt() -> None:
            stopped.append(time.perf_counter() - started)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)
            hard_stop.start()

        hard_stop = threading.Timer(20.0, process.kill)  # Ctrl-C was not enough
        time_box = threading.Timer(budget_s, interrupt) if budget_s else None
        if time_box:
            time_box.start()
        try:
            # waitid with WNOWAIT leaves the zombie in place, so the poller cannot read a recycled pid.
            os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOWAIT)
            wall = time.perf_counter() - started
            poller.stop()
            _, status, usage = os.wait4(process.pid, 0)
        except BaseException:
            poller.stop()
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            raise
        finally:
            watchdog.cancel()
            if time_box:
                time_box.cancel()
            hard_stop.cancel()
        process.returncode = os.waitstatus_to_exitcode(status)  # reaped by wait4: keep Popen from waiting again
        out.join()
        err.join()
        process.stdout.close()
        process.stderr.close()
    if process.returncode != 0 and not stopped:
        raise BenchError(
            f"{' '.join(cmd)}\nexited with {process.returncode}\n--- stdout (tail) ---\n"
            f"{out.tail.decode(errors='replace')}\n--- stderr (tail) ---\n{err.tail.decode(errors='replace')}"
        )
    marks = [t for t in (out.first_mark_s, err.first_mark_s) if t is not None]
    return Measured(
        wall_s=wall,
        first_line_s=out.first_line_s,
        first_mark_s=min(marks) if marks else None,
        lines=out.lines,
        marks=out.marks + err.marks,
        stopped_s=stopped[0] if stopped else None,
        cpu_s=usage.ru_utime + usage.ru_stime,
        maxrss_mb=poller.hwm_kib * 1024 / MB,
        server_cpu_s=sum(process_cpu_s(pid) for pid in server_pids) - server_before,
    )
