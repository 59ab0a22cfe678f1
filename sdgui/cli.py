"""The ``sdgui`` command: volumes, listings and copy/move jobs from a terminal; without a subcommand, the window."""

from __future__ import annotations

import argparse
import contextlib
import gc
import importlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING

from sdgui import __version__
from sdgui.cli_lines import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, error_line
from sdgui.core import errors
from sdgui.core.memory import limit_heap_arenas
from sdgui.core.redaction import RedactingFilter

if TYPE_CHECKING:
    from datetime import timedelta

    from sdgui.core.backends.base import Entry

# Each command imports what it needs when it runs (the volumes, the backends, the copy machinery, the journal, rich's
# progress bars): `sdgui --version` imports next to nothing and `sdgui ls` starts in a fraction of what importing all
# of them costs (tests/test_cli_startup.py keeps it so).
CONFLICT_POLICIES = ("skip", "overwrite", "rename", "fail")
"""What --on-conflict takes (sdgui.core.copy.conflicts.CONFLICT_POLICIES; a test keeps the two the same)."""
VOLUME_KINDS = ("s3", "r2", "gcs", "azure", "local")
"""What --kind takes (sdgui.core.volumes.VOLUME_KINDS, which `--version` need not import; a test keeps the two
the same)."""

log = logging.getLogger(__name__)

# -- arguments ------------------------------------------------------------------------------------------------


def remote_setting(text: str) -> tuple[str, str]:
    """``REMOTE=VALUE`` of ``volume import rclone --bucket``/``--prefix``."""
    remote, sep, value = text.partition("=")
    if not sep or not remote or not value:
        raise argparse.ArgumentTypeError(f"expected REMOTE=VALUE, not {text!r}")
    return remote, value


def age_argument(text: str) -> timedelta:
    """``--older-than``: ``90s``, ``30m``, ``24h``, ``7d``."""
    from sdgui.core.cleanup import parse_age

    try:
        return parse_age(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser of the command line. Given ``argv``, only the command it names gets its options (and none when it
    names no command: ``--version``, ``--help``, the window): a start builds one command's options, not every one."""
    parser = argparse.ArgumentParser(
        prog="sdgui", description="Copy files between local disks and cloud object storage, verified."
    )
    parser.add_argument(
        "--version",
        action="store_true",
        help="print the version (with --verbose: also where the log file is, and what sdgui runs on)",
    )
    parser.add_argument("--demo", action="store_true", help='start a local demo S3 server as volume "demo" first')
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    # The options before a command are all flags, so the first word that is not one names the command.
    named = None if argv is None else next((word for word in argv if not word.startswith("-")), "")
    for name, (summary, add_options) in _COMMANDS.items():
        command = commands.add_parser(name, help=summary)
        if named is None or named == name:
            add_options(command)
    _add_verbose(parser, default=False)
    return parser


def _volume_options(parser: argparse.ArgumentParser) -> None:
    volume = parser.add_subparsers(dest="volume_command", metavar="ACTION", required=True)
    add = volume.add_parser("add", help="define a volume (a bucket, container or local directory)")
    add.add_argument("name")
    add.add_argument("--kind", required=True, choices=VOLUME_KINDS)
    add.add_argument("--bucket", help="bucket (s3, r2, gcs) or container (azure)")
    add.add_argument("--endpoint", help="service URL: S3-compatible services, an Azure emulator's .../ACCOUNT")
    add.add_argument("--region")
    add.add_argument("--prefix", default="", help="only show keys under this folder of the bucket")
    add.add_argument(
        "--access-key-id",
        "--account-name",
        help="the access key ID (azure: the storage account name); the secret is then asked for and kept in the "
        "OS keyring",
    )
    add.add_argument("--sas", action="store_true", default=None, help="azure: the secret is a SAS token, not the key")
    add.add_argument(
        "--service-account-file",
        metavar="JSON",
        help="gcs: keep this service-account key in the OS keyring (without it: application default credentials)",
    )
    add.add_argument("--secret-env", metavar="VAR", help="read the secret from environment variable VAR instead")
    add.add_argument(
        "--profile", metavar="NAME", help="use AWS profile NAME of ~/.aws/config (keys, SSO, credential_process, roles)"
    )
    add.add_argument("--allow-http", action="store_true", help="allow a plain http:// endpoint")
    add.add_argument("--path-style", action="store_true", default=None, help="path-style requests (bucket in path)")
    add.add_argument("--read-only", action="store_true", help="never write to this volume")
    add.add_argument("--root", help="the directory of a local volume")
    imports = volume.add_parser("import", help="add volumes from another tool's configuration").add_subparsers(
        dest="import_source", metavar="SOURCE", required=True
    )
    rclone = imports.add_parser("rclone", help="the s3, b2, azureblob and gcs remotes of rclone.conf")
    rclone.add_argument("--config", metavar="PATH", help="the rclone.conf (default: $RCLONE_CONFIG or rclone's own)")
    rclone.add_argument(
        "--bucket",
        action="append",
        default=[],
        metavar="REMOTE=BUCKET",
        type=remote_setting,
        help="the bucket (or container) the volume of REMOTE shows; repeat per remote",
    )
    rclone.add_argument(
        "--endpoint",
        action="append",
        default=[],
        metavar="REMOTE=URL",
        type=remote_setting,
        help="the endpoint of REMOTE (b2: https://s3.REGION.backblazeb2.com); repeat per remote",
    )
    rclone.add_argument("--dry-run", action="store_true", help="show what would be imported, change nothing")
    rclone.add_argument("--json", action="store_true", help="one JSON object per line")
    listing = volume.add_parser("list", help="show the configured volumes")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    volume.add_parser("test", help="list, write, read back and delete a probe object").add_argument("name")
    volume.add_parser("remove", help="forget a volume and its stored secret").add_argument("name")
    cleanup = volume.add_parser("cleanup", help="abort incomplete multipart uploads (s3, r2) older than an age")
    cleanup.add_argument("name")
    cleanup.add_argument(
        "--older-than",
        default="24h",
        type=age_argument,
        metavar="AGE",
        help="only uploads started this long ago: 90s, 30m, 24h, 7d",
    )
    cleanup.add_argument("--dry-run", action="store_true", help="list them, abort nothing")
    cleanup.add_argument("--json", action="store_true", help="one JSON object per line")


def _ls_options(ls: argparse.ArgumentParser) -> None:
    ls.add_argument("target", help="NAME:key, NAME:dir/, NAME: or a local path")
    ls.add_argument("--json", action="store_true", help="one JSON object per line")


def _copy_options(job: argparse.ArgumentParser) -> None:
    """``copy`` and ``move``."""
    job.add_argument("sources", nargs="+", metavar="SRC", help="NAME:key, NAME:dir/ or a local path")
    job.add_argument("destination", metavar="DST", help="a trailing / makes it a directory")
    job.add_argument("--on-conflict", choices=CONFLICT_POLICIES, default="fail", help="when the destination exists")
    checks = job.add_mutually_exclusive_group()
    checks.add_argument("--no-verify", action="store_true", help="skip checksum verification")
    checks.add_argument("--verify-readback", action="store_true", help="also read cloud copies back and compare")
    job.add_argument("--json", action="store_true", help="print every event as one JSON object per line")


def _rm_options(rm: argparse.ArgumentParser) -> None:
    rm.add_argument("targets", nargs="+", metavar="TARGET", help="NAME:key, NAME:dir/ or a local path")
    rm.add_argument("-r", "--recursive", action="store_true", help="delete folders and everything in them")
    rm.add_argument("--json", action="store_true", help="print every event as one JSON object per line")


def _jobs_options(jobs: argparse.ArgumentParser) -> None:
    jobs.add_argument("--json", action="store_true", help="one JSON object per line")
    jobs_actions = jobs.add_subparsers(dest="jobs_command", metavar="ACTION")
    resume = jobs_actions.add_parser("resume", help="carry on with an interrupted, cancelled or failed job")
    resume.add_argument("id", help="the job's id (or the start of it)")
    resume.add_argument("--json", action="store_true", help="print every event as one JSON object per line")
    jobs_actions.add_parser("discard", help="forget a job and remove its partial files").add_argument("id")


_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None]]] = {
    "volume": ("add, list, test, clean up or remove volumes", _volume_options),
    "ls": ("list a directory or prefix, or show one file", _ls_options),
    "copy": ("copy files and directories", _copy_options),
    "move": ("move files and directories (each source is deleted once its copy is confirmed)", _copy_options),
    "rm": ("delete files, objects and (with -r) folders with what they hold", _rm_options),
    "jobs": ("list, resume or discard unfinished copy and move jobs", _jobs_options),
}
"""Each command: its summary in ``sdgui --help``, and what adds its options."""


def _add_verbose(parser: argparse.ArgumentParser, *, default: object) -> None:
    """``-v/--verbose`` on this parser and every subcommand's, so it may come before or after the command."""
    verbose = parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="log in detail, to stderr and to the log file (%(log_file)s)",
    )
    verbose.log_file = _LogFile()  # type: ignore[attr-defined]  # argparse fills %(...)s from the action's attributes
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                # SUPPRESS: a subcommand's default must not undo a --verbose given before the command.
                _add_verbose(sub, default=argparse.SUPPRESS)


class _LogFile:
    """The log file's path in the help, looked up (sdgui.logs, platformdirs) only when the help is printed."""

    def __str__(self) -> str:
        from sdgui.logs import log_file

        return str(log_file())


# -- entry point ----------------------------------------------------------------------------------------------


def entry() -> int:
    """The ``sdgui`` program: the process-wide settings a whole program may make, then ``main``."""
    limit_heap_arenas()  # before any worker thread: the RSS of a job over many files stays flat
    gc.disable()  # until the command's modules are imported (_imported)
    return main()


def _imported() -> None:
    """The command's modules are imported: the cycle collector runs again, over what is made from now on (the
    modules' objects, which live as long as the process, are left out of it). Collecting while the modules were
    imported cost ~10 ms of every start. Nothing where ``entry`` did not stop it (``main`` called by tests or
    by another program)."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def main(argv: list[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 error, 2 usage, 130 cancelled)."""
    argv = sys.argv[1:] if argv is None else argv
    try:
        args = build_parser(argv).parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    verbose = bool(getattr(args, "verbose", False))
    if args.version:
        return print_version(verbose=verbose)
    with _logging(verbose=verbose):
        log.info("sdgui %s, Python %s, pid %d: %s", __version__, sys.version.split()[0], os.getpid(), _what(args))
        try:
            return _dispatch(args)
        except errors.SdError as exc:
            error_line(str(exc))
            return EXIT_FAILED
        except KeyboardInterrupt:
            error_line("interrupted")
            return EXIT_CANCELLED
        except BrokenPipeError:
            # The reader went away (`sdgui ls ... | head`): stop quietly, and keep Python from complaining at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_FAILED
        except Exception as exc:
            log.debug("unexpected error", exc_info=True)
            error_line(f"unexpected error: {type(exc).__name__}: {exc} (run with --verbose for details)")
            return EXIT_FAILED


class _StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is now, so a live progress bar can redirect it."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            print(self.format(record), file=sys.stderr, flush=True)
        except Exception:
            self.handleError(record)


def _not_a_failed_file(record: logging.LogRecord) -> bool:
    # The job logs each failed file; the CLI prints those itself, once, from the FileFailed events.
    return not (record.name == "sdgui.core.copy.job" and record.levelno < logging.ERROR)


@contextlib.contextmanager
def _logging(*, verbose: bool) -> Iterator[None]:
    """Warnings (everything with --verbose or SDGUI_DEBUG=1) as ``sdgui: LEVEL: message`` on stderr, and the log
    file; secrets redacted in both."""
    from sdgui.logs import debug_requested, logging_configured

    debug = debug_requested()
    handler = _StderrHandler(logging.DEBUG if verbose or debug else logging.WARNING)
    handler.addFilter(RedactingFilter())
    if not debug:
        handler.addFilter(_not_a_failed_file)
    handler.setFormatter(logging.Formatter("sdgui: %(levelname)s: %(message)s"))
    with logging_configured(handler, verbose=verbose):
        yield


def _what(args: argparse.Namespace) -> str:
    """The command, for the log: its name and action, not its arguments."""
    words = [args.command or ("window --demo" if args.demo else "window")]
    words += [w for w in (getattr(args, "volume_command", None), getattr(args, "jobs_command", None)) if w]
    return " ".join(words)


def print_version(*, verbose: bool) -> int:
    """``sdgui --version``; with ``--verbose`` also what a bug report needs (where the log is, versions)."""
    if not verbose:
        print(f"sdgui {__version__}")
        return EXIT_OK
    from sdgui.about import about_lines

    (_, version), *details = about_lines()
    print(f"sdgui {version}")
    width = max(len(label) for label, _ in details) + 1
    for label, value in details:
        print(f"  {label + ':':<{width}} {value}")
    return EXIT_OK


def _dispatch(args: argparse.Namespace) -> int:
    if args.command not in ("ls", "copy", "move"):  # those import their modules first
        _imported()
    if args.command is None:
        return open_window(demo=args.demo)
    if args.demo:
        raise errors.ConfigError("--demo only applies to the window: run `sdgui --demo` without a command")
    if args.command == "volume":
        from sdgui.cli_volumes import (
            volume_add,
            volume_cleanup,
            volume_import_rclone,
            volume_list,
            volume_remove,
            volume_test,
        )

        commands: dict[str, Callable[[argparse.Namespace], int]] = {
            "add": volume_add,
            "import": volume_import_rclone,
            "list": volume_list,
            "test": volume_test,
            "remove": volume_remove,
            "cleanup": volume_cleanup,
        }
        return commands[args.volume_command](args)
    if args.command == "ls":
        return ls(args)
    if args.command == "rm":
        from sdgui.cli_rm import rm

        return rm(args)
    if args.command == "jobs":
        from sdgui.cli_jobs import jobs_discard, jobs_list, jobs_resume

        return {None: jobs_list, "resume": jobs_resume, "discard": jobs_discard}[args.jobs_command](args)
    return copy_or_move(args, move=args.command == "move")


def open_window(*, demo: bool) -> int:
    """The dual-pane window; without a GUI, ``--demo`` still runs the headless demo."""
    try:
        app = importlib.import_module("sdgui.gui.app")
    except ImportError as exc:
        if demo:
            from sdgui.demo import run_headless_demo

            print(f"the window is not available ({exc}); running the headless demo instead", flush=True)
            return run_headless_demo()
        error_line(f"the window is not available ({exc}); use a command instead, see `sdgui --help`")
        return EXIT_FAILED
    return int(app.run(demo=demo))


# -- ls -------------------------------------------------------------------------------------------------------


def ls(args: argparse.Namespace) -> int:
    """List a directory or prefix page by page (not recursive), or show the one file ``target`` names."""
    from sdgui.core.backends.factory import BackendCache
    from sdgui.core.paths import SdPath
    from sdgui.core.read_ahead import read_ahead
    from sdgui.core.volumes import VolumeRegistry

    _imported()
    path = SdPath.parse(args.target)
    backends = BackendCache(VolumeRegistry())
    try:
        backend = backends.get(path.volume)
        key = path.backend_key
        if key and not path.is_dir:
            try:
                entry = backend.stat(key)
            except errors.NotFoundError:
                if backend.capabilities.is_local or not backend.is_dir(key):
                    raise
            else:
                if not entry.is_dir:
                    _print_entries([entry], str(path), args.json)
                    return EXIT_OK
        shown = 0
        for page in read_ahead(backend.list(key)):  # the next page is on its way while this one prints
            _print_entries(sorted(page, key=lambda e: e.name), str(path), args.json)
            shown += len(page)
        if not shown and key and not backend.capabilities.is_local:
            raise errors.NotFoundError("no such directory or prefix", volume=path.volume, path=key)
        return EXIT_OK
    finally:
        backends.close()


def _print_entries(entries: list[Entry], location: str, as_json: bool) -> None:
    from sdgui.cli_lines import entry_dict, entry_line, one_lines, print_json

    if as_json:
        for entry in entries:
            print_json(entry_dict(entry, location), flush=False)  # flushed with the page, below
    elif entries:
        sys.stdout.write("\n".join(one_lines([entry_line(entry) for entry in entries])) + "\n")  # a page at once
    sys.stdout.flush()


# -- copy and move --------------------------------------------------------------------------------------------


def copy_or_move(args: argparse.Namespace, *, move: bool) -> int:
    from sdgui.cli_jobs import run_copy
    from sdgui.core.copy.action import CopyAction, CopyOptions
    from sdgui.core.copy.verify import VerifyMode
    from sdgui.core.paths import SdPath

    _imported()
    sources = [SdPath.parse(text) for text in args.sources]
    destination = SdPath.parse(args.destination)
    verify: VerifyMode = "off" if args.no_verify else "readback" if args.verify_readback else "on"
    options = CopyOptions(on_conflict=args.on_conflict, verify=verify, delete_after_copy=move)
    log.info(
        "%s %s to %s (on conflict: %s, verify: %s)",
        "move" if move else "copy",
        ", ".join(str(source) for source in sources),
        destination,
        options.on_conflict,
        verify,
    )
    code = run_copy(CopyAction(sources, destination, options), json_lines=args.json)
    log.info("%s ended with exit code %d", "move" if move else "copy", code)
    return code


# -- jobs -----------------------------------------------------------------------------------------------------
