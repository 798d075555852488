"""Backups of the strategy, and the operations that must take one first.

Nothing is lost: every reset, overwrite and restore writes the current
``to_dict()`` to ``backups/auth_strategy-<UTC time>.json`` before it changes the
file, and a corrupt file is renamed ``.corrupt-<UTC time>`` instead of deleted (never
over an earlier one: ``_internal.set_aside``). All of it happens under the strategy
file lock, so two processes cannot interleave.

A plain restore takes the newest backup that is valid, and says which newer ones it
skipped and why; a backup named explicitly must be valid itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from attune.models._internal import paths
from attune.models._internal.atomic_file import atomic_write_json
from attune.models._internal.set_aside import set_aside
from attune.models.strategy.model import AuthStrategy, StrategyFileError, read_strategy_file, strategy_lock

BACKUP_PREFIX = "auth_strategy-"

#: What to do about a backup that cannot be restored (``attune auth reset`` would not help).
BACKUP_ADVICE = "Nothing was changed; restore another backup instead (`attune auth restore --list` lists them)."


class NoUsableBackupError(StrategyFileError):
    """A plain restore found backups, but none of them is a valid strategy. ``path`` is
    the backups folder; ``skipped`` each backup with its problem."""

    def __init__(self, directory: Path, skipped: list[tuple[Path, str]]):
        self.skipped = skipped
        reasons = "; ".join(f"{path.name}: {problem}" for path, problem in skipped)
        super().__init__(
            directory,
            f"no backup here can be restored ({reasons})",
            "Nothing was changed: fix a backup by hand, or choose the settings again with `attune auth setup`.",
        )


def _utc_stamp() -> str:
    # microseconds keep two backups in one second apart; sorts chronologically
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _unique(path: Path) -> Path:
    candidate, n = path, 1
    while candidate.exists():
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        n += 1
    return candidate


def list_backups(directory: Path | None = None) -> list[Path]:
    """Backups, newest first."""
    directory = directory or paths.backups_dir()
    if not directory.is_dir():
        return []
    return sorted(directory.glob(f"{BACKUP_PREFIX}*.json"), key=lambda p: p.name, reverse=True)


def write_backup(data: dict[str, Any], directory: Path | None = None) -> Path:
    directory = directory or paths.backups_dir()
    target = _unique(directory / f"{BACKUP_PREFIX}{_utc_stamp()}.json")
    atomic_write_json(target, data, mode=0o600)
    return target


def set_aside_corrupt(path: Path) -> Path:
    """Rename an unusable strategy file to ``<name>.corrupt-<UTC time>`` (never over an
    earlier one); return the new path."""
    return set_aside(path)


@dataclass(frozen=True)
class ChangeResult:
    """What a reset, overwrite or restore did, for the CLI and the server to report."""

    path: Path
    backup: Path | None  # to_dict() of the strategy before the change
    previous: dict[str, Any] | None
    corrupt_moved_to: Path | None = None
    current: dict[str, Any] | None = None
    # a restore only: the backup it brought back, and the newer ones it skipped (why)
    restored_from: Path | None = None
    skipped_backups: tuple[tuple[Path, str], ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "path": str(self.path),
            "backup": str(self.backup) if self.backup else None,
            "previous": self.previous,
            "corrupt_moved_to": str(self.corrupt_moved_to) if self.corrupt_moved_to else None,
            "current": self.current,
        }
        if self.restored_from is not None:
            data["restored_from"] = str(self.restored_from)
            data["skipped_backups"] = [
                {"backup": str(path), "problem": problem} for path, problem in self.skipped_backups or ()
            ]
        return data


def _backup_current(target: Path) -> tuple[Path | None, dict[str, Any] | None, Path | None]:
    """Back up what is at ``target`` now. A valid strategy is backed up as to_dict();
    a corrupt file is renamed aside (its bytes kept); no file, no backup needed."""
    try:
        raw = read_strategy_file(target)
        if raw is None:
            return None, None, None
        previous = AuthStrategy.from_dict(raw).to_dict()
    except (StrategyFileError, ValueError):
        return None, None, set_aside_corrupt(target)
    return write_backup(previous), previous, None


def save_with_backup(strategy: AuthStrategy, path: Path | None = None) -> ChangeResult:
    """Save ``strategy``, backing up whatever it replaces."""
    target = path or paths.auth_strategy_path()
    with strategy_lock(target):
        backup, previous, corrupt = _backup_current(target)
        strategy.save(target)
    return ChangeResult(target, backup, previous, corrupt, strategy.to_dict())


def reset_strategy(path: Path | None = None) -> ChangeResult:
    """Back up ``to_dict()`` (or set a corrupt file aside), then clear the strategy.

    The backup is always written, even when no file exists yet (then it holds the
    defaults), so a caller can always tell the user where the previous state went.
    """
    target = path or paths.auth_strategy_path()
    with strategy_lock(target):
        backup, previous, corrupt = _backup_current(target)
        if backup is None and corrupt is None:
            previous = AuthStrategy().to_dict()
            backup = write_backup(previous)
        try:
            target.unlink()
        except FileNotFoundError:
            pass
    return ChangeResult(target, backup, previous, corrupt, AuthStrategy().to_dict())


def _load_backup(source: Path) -> AuthStrategy:
    """The strategy in a backup; StrategyFileError naming the backup (advising another
    backup, not a reset) when it cannot be used. A missing backup is FileNotFoundError."""
    try:
        raw = read_strategy_file(source)
        if raw is None:
            raise FileNotFoundError(f"no such backup: {source}")
        return AuthStrategy.from_dict(raw)
    except StrategyFileError as exc:
        raise StrategyFileError(source, exc.problem, BACKUP_ADVICE) from None
    except ValueError as exc:
        raise StrategyFileError(source, f"invalid strategy ({exc})", BACKUP_ADVICE) from None


def restore_strategy(backup: Path | str | None = None, path: Path | None = None) -> ChangeResult:
    """Bring back the newest valid backup, or the one named; the current strategy is
    backed up first.

    Without a name, backups that cannot be used are skipped (newest first) and listed in
    ``skipped_backups`` with the reason; NoUsableBackupError when none is valid. A named
    backup that cannot be used raises StrategyFileError naming it."""
    skipped: list[tuple[Path, str]] = []
    if backup is None:
        backups = list_backups()
        if not backups:
            raise FileNotFoundError(f"no backups in {paths.backups_dir()}")
        for source in backups:
            try:
                restored = _load_backup(source)
                break
            except StrategyFileError as exc:
                skipped.append((source, exc.problem))
            except FileNotFoundError:
                skipped.append((source, "removed while it was being read"))
        else:
            raise NoUsableBackupError(paths.backups_dir(), skipped)
    else:
        source = Path(backup)
        if not source.exists() and not source.is_absolute():
            source = paths.backups_dir() / source  # a bare name from `attune auth restore --list`
        if not source.exists():
            raise FileNotFoundError(f"no such backup: {backup}")
        restored = _load_backup(source)
    target = path or paths.auth_strategy_path()
    with strategy_lock(target):
        previous_backup, previous, corrupt = _backup_current(target)
        restored.save(target)
    return ChangeResult(
        target,
        previous_backup,
        previous,
        corrupt,
        restored.to_dict(),
        restored_from=source,
        skipped_backups=tuple(skipped),
    )


def apply_setup(changes: dict[str, Any], path: Path | None = None) -> ChangeResult:
    """What every setup (CLI flags, the wizard, the editor) does: the given fields over
    the current strategy, ``setup_completed`` set, validated, saved with a backup.

    A corrupt current file counts as the defaults here; ``save_with_backup`` keeps it
    aside as ``.corrupt-<time>``, so choosing a setup is also the way out of one.
    Raises ValueError naming the field when the result is invalid (nothing is saved).
    """
    target = path or paths.auth_strategy_path()
    try:
        current = AuthStrategy.load(target).to_dict()
    except StrategyFileError:
        current = AuthStrategy().to_dict()
    chosen = AuthStrategy.from_dict({**current, **changes, "setup_completed": True})
    return save_with_backup(chosen, target)
