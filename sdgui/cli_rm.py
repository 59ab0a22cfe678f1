"""``sdgui rm``: delete files, objects and folders as one cancellable DeleteJob (Ctrl-C stops between objects)."""

from __future__ import annotations

import argparse

from sdgui.cli_jobs import run_delete
from sdgui.core.delete import DeleteAction
from sdgui.core.paths import SdPath


def rm(args: argparse.Namespace) -> int:
    """Exit 0 when every target is gone, 1 on the first failure (what was deleted so far stays deleted), 130 when
    cancelled (what was not deleted yet is still there)."""
    action = DeleteAction([SdPath.parse(target) for target in args.targets], recursive=args.recursive)
    return run_delete(action, json_lines=args.json)
