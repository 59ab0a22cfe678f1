"""``sdgui rm``: delete files, objects and folders as one cancellable DeleteJob (Ctrl-C stops between objects)."""

from __future__ import annotations

import argparse

from sdgui.cli_jobs import run_cancellable
from sdgui.cli_output import EXIT_CANCELLED, EXIT_FAILED, EXIT_OK, error_line, print_json
from sdgui.core.backends.factory import BackendCache
from sdgui.core.copy.events import JobEvent
from sdgui.core.delete import DeleteAction, DeleteCancelled, DeleteFailed, DeleteFinished, DeleteJob
from sdgui.core.paths import SdPath
from sdgui.core.volumes import VolumeRegistry


def rm(args: argparse.Namespace) -> int:
    """Exit 0 when every target is gone, 1 on the first failure (what was deleted so far stays deleted), 130 when
    cancelled (what was not deleted yet is still there)."""
    action = DeleteAction([SdPath.parse(target) for target in args.targets], recursive=args.recursive)
    backends = BackendCache(VolumeRegistry())
    job = DeleteJob(action, backends)

    def sink(event: JobEvent) -> None:
        if args.json:
            print_json(event.to_dict())

    try:
        final = run_cancellable(job, sink, on_cancel=error_line)
    finally:
        backends.close()
    if isinstance(final, DeleteFinished):
        if not args.json:
            print(f"deleted {_files(final.deleted)}")
        return EXIT_OK
    if isinstance(final, DeleteCancelled):
        error_line(f"cancelled after deleting {_files(final.deleted)}; the rest is still there")
        return EXIT_CANCELLED
    assert isinstance(final, DeleteFailed), final
    error_line(final.message)
    return EXIT_FAILED


def _files(count: int) -> str:
    return f"{count} file{'' if count == 1 else 's'}"
