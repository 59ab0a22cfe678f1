"""`sdgui volume ...`: add, list, test, remove and clean up volumes."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import logging
import os
import sys
from pathlib import Path

from sdgui.cli_lines import EXIT_FAILED, EXIT_OK, error_line, one_line, print_json
from sdgui.cli_output import human_duration, volume_table
from sdgui.core import errors, rclone_import
from sdgui.core.backends.factory import BackendCache, available_profiles, backend_for_config
from sdgui.core.cleanup import StaleUpload, abort_uploads, find_stale_uploads, uploads_of
from sdgui.core.identity import describe_identity
from sdgui.core.probe import ProbeStep, probe_volume
from sdgui.core.secrets import SecretStore
from sdgui.core.volumes import VolumeConfig, VolumeRegistry

log = logging.getLogger(__name__)

CLEANUP_GRACE_S = 10.0
"""After a second Ctrl-C, how long the command still waits for the job to clean up."""


# -- volumes --------------------------------------------------------------------------------------------------


def volume_add(args: argparse.Namespace) -> int:
    config = VolumeConfig(
        name=args.name,
        kind=args.kind,
        bucket=args.bucket,
        endpoint=args.endpoint,
        region=args.region,
        prefix=args.prefix,
        path_style=args.path_style,
        access_key_id=args.access_key_id,
        secret_env=args.secret_env,
        allow_http=args.allow_http,
        root=os.path.abspath(os.path.expanduser(args.root)) if args.root else None,
        read_only=args.read_only,
        profile=args.profile,
        sas=args.sas,
    )
    registry = VolumeRegistry()
    registry.add(config)  # validates and refuses a duplicate before a secret is asked for
    if config.profile and config.profile not in available_profiles():
        raise errors.ConfigError(
            f"there is no AWS profile named {config.profile} in ~/.aws/config or ~/.aws/credentials",
            volume=config.name,
        )
    key_file = _service_account_key(config, args.service_account_file)
    in_keyring = (bool(config.access_key_id) or key_file is not None) and not config.secret_env
    if in_keyring:
        SecretStore().set(config.name, key_file or _read_secret(config.name))
    registry.save()
    if config.profile:
        print(f"added volume {config.name}; it uses AWS profile {config.profile}")
    elif config.secret_env or in_keyring:
        where = f"environment variable {config.secret_env}" if config.secret_env else "the OS keyring"
        print(f"added volume {config.name}; its secret is read from {where}")
    else:
        print(f"added volume {config.name}")
    return EXIT_OK


def _service_account_key(config: VolumeConfig, path: str | None) -> str | None:
    """A gcs volume's service-account JSON key, read from ``path`` once (it is then kept in the keyring)."""
    if path is None:
        return None
    if config.kind != "gcs":
        raise errors.ConfigError("--service-account-file is for gcs volumes", volume=config.name)
    try:
        key = json.loads(Path(path).expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise errors.ConfigError(
            f"cannot read a service-account JSON key from {path}: {exc}", volume=config.name
        ) from None
    if not isinstance(key, dict) or "private_key" not in key:
        raise errors.ConfigError(f"{path} is not a service-account key (it has no private_key)", volume=config.name)
    return json.dumps(key, separators=(",", ":"))


def _read_secret(volume: str) -> str:
    """The secret, typed without echo on a terminal or as one line of stdin; never stored here."""
    if sys.stdin is not None and sys.stdin.isatty():
        secret = getpass.getpass(f"secret access key for volume {volume}: ")
    else:
        secret = sys.stdin.readline().rstrip("\r\n") if sys.stdin is not None else ""
    if not secret:
        raise errors.CredentialsError("no secret was given", volume=volume)
    return secret


def volume_import_rclone(args: argparse.Namespace) -> int:
    """Turn the remotes of an rclone.conf into volumes; say for each what it became or why it was skipped."""
    path = Path(args.config).expanduser() if args.config else rclone_import.default_config_path()
    remotes = rclone_import.read_remotes(path)
    registry = VolumeRegistry()
    items = rclone_import.plan_import(
        remotes,
        buckets=dict(args.bucket),
        endpoints=dict(args.endpoint),
        existing={volume.name for volume in registry.list()},
        profiles=set(available_profiles()),
    )
    if not args.dry_run:
        rclone_import.apply_import(items, registry)
    for item in items:
        _print_import(item, dry_run=args.dry_run, json=args.json)
    if not args.json:
        done = sum(1 for item in items if (item.imported or (args.dry_run and not item.skipped)))
        verb = "would import" if args.dry_run else "imported"
        print(f"{verb} {done} of {len(items)} remote(s) from {path}")
    return EXIT_OK


def _print_import(item: rclone_import.ImportItem, *, dry_run: bool, json: bool) -> None:
    action = "skipped" if item.skipped else ("would_import" if dry_run else "imported")
    volume = item.volume
    if json:
        row: dict[str, object] = {"type": action, "remote": item.remote, "rclone_type": item.rclone_type}
        if item.skipped:
            row["reason"] = item.skipped
        elif volume is not None:
            row |= {"volume": volume.to_dict(), "identity": item.identity, "secret_in_keyring": bool(item.secret)}
            if item.note:
                row["note"] = item.note
        print_json(row)
        return
    if item.skipped or volume is None:
        print(one_line(f"skipped {item.remote} ({item.rclone_type or 'no type'}): {item.skipped}"))
        return
    where = f"{volume.bucket}/{volume.prefix}" if volume.prefix else volume.bucket
    note = f"; {item.note}" if item.note else ""
    verb = "would add" if dry_run else "added"
    detail = f"{volume.kind} {where}, {item.identity}{note}"
    print(one_line(f"{verb} {item.remote} → volume {volume.name} ({detail})"))


def volume_list(args: argparse.Namespace) -> int:
    volumes = VolumeRegistry().list()
    if args.json:
        for config in volumes:
            print_json({**config.to_dict(), "identity": describe_identity(config)})
    elif volumes:
        print(volume_table(volumes))
    else:
        print("no volumes yet; add one with `sdgui volume add NAME --kind ...`")
    return EXIT_OK


def volume_remove(args: argparse.Namespace) -> int:
    registry = VolumeRegistry()
    registry.remove(args.name)
    registry.save()
    with contextlib.suppress(errors.KeyringUnavailableError):  # nothing was stored where there is no keyring
        SecretStore().delete(args.name)
    print(f"removed volume {args.name}")
    return EXIT_OK


def volume_test(args: argparse.Namespace) -> int:
    """List, write a probe object, read it back, delete it: one line per step; exit 0 only if all pass."""
    registry = VolumeRegistry()
    config = registry.get(args.name)
    backends = BackendCache(registry)
    try:
        steps = probe_volume(backends.get(config.name), on_step=_print_step, read_only=config.read_only)
    finally:
        backends.close()
    failed = [step for step in steps if not step.ok]
    for step in failed:
        error_line(f"{step.error_kind} error at volume {config.name} ({step.name}): {step.message}")
    if config.read_only and not failed:
        print("- write, read back, delete: skipped, the volume is read-only")
    return EXIT_FAILED if failed else EXIT_OK


def _age_text(seconds: float | None) -> str:
    """An upload's age: ``42 s``, ``3 h 05 min``, and in days past two of them (``9 d 04 h``)."""
    if seconds is None or seconds < 2 * 86400:
        return human_duration(seconds)
    days, rest = divmod(round(seconds), 86400)
    return f"{days} d {rest // 3600:02d} h"


def volume_cleanup(args: argparse.Namespace) -> int:
    """Abort the volume's multipart uploads started at least --older-than ago (only list them with --dry-run)."""
    config = VolumeRegistry().get(args.name)
    if config.read_only and not args.dry_run:
        raise errors.ConfigError(
            "the volume is read-only: nothing is aborted there; list with --dry-run", volume=args.name
        )
    backend = backend_for_config(config)
    verb = "would abort" if args.dry_run else "aborted"

    def show(stale: StaleUpload, failure: errors.SdError | None = None) -> None:
        age = None if stale.age is None else stale.age.total_seconds()
        action = "failed" if failure else verb
        if args.json:
            row = {"type": "upload", "action": action, "key": stale.key, "upload_id": stale.upload_id, "age_s": age}
            print_json({**row, "error": str(failure)} if failure else row)
        else:
            print(one_line(f"{action}  {stale.key}  (upload {stale.upload_id}, {_age_text(age)} old)"), flush=True)

    try:
        client = uploads_of(backend)
        report = find_stale_uploads(client, args.older_than)
        if args.dry_run:
            for stale in report.stale:
                show(stale)
        else:
            abort_uploads(client, report.stale, report, on_done=show)
    finally:
        backend.close()
    done = len(report.stale) if args.dry_run else len(report.aborted)
    if args.json:
        print_json(
            {
                "type": "summary",
                "volume": config.name,
                "dry_run": args.dry_run,
                "older_than_s": args.older_than.total_seconds(),
                verb.replace(" ", "_"): done,
                "failed": len(report.failed),
                "kept": report.kept,
            }
        )
    else:
        older = _age_text(args.older_than.total_seconds())
        kept = f"; {report.kept} younger than {older} left alone" if report.kept else ""
        print(f"{verb} {done} incomplete upload(s) older than {older} in volume {config.name}{kept}")
    for stale, failure in report.failed:
        error_line(f"could not abort the upload of {stale.key}: {failure}")
    return EXIT_FAILED if report.failed else EXIT_OK


def _print_step(step: ProbeStep) -> None:
    # A failed step's message goes to stderr afterwards, as the command's one error line.
    detail = f"  {one_line(step.message)}" if step.ok else ""
    print(f"{'✓' if step.ok else '✗'} {step.name:10}{step.seconds:6.2f} s{detail}", flush=True)
