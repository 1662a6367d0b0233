"""The project's git commit, read from .git without the git binary (None when not a checkout)."""

from __future__ import annotations

import re
from pathlib import Path

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def find_git_dir(start: Path) -> Path | None:
    """The .git folder of the checkout holding ``start`` (a ``.git`` file of a worktree is followed)."""
    for folder in [start, *start.parents]:
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():
            text = dot_git.read_text(encoding="utf-8", errors="replace").strip()
            if text.startswith("gitdir:"):
                target = Path(text.removeprefix("gitdir:").strip())
                return target if target.is_absolute() else (folder / target).resolve()
    return None


def _common_dir(git_dir: Path) -> Path:
    try:
        rel = (git_dir / "commondir").read_text().strip()
    except OSError:
        return git_dir
    path = Path(rel)
    return path if path.is_absolute() else (git_dir / path).resolve()


def _resolve_ref(git_dir: Path, ref: str) -> str | None:
    for base in (git_dir, _common_dir(git_dir)):
        try:
            value = (base / ref).read_text().strip()
            if _SHA.match(value):
                return value
        except OSError:
            pass
        try:
            for line in (base / "packed-refs").read_text().splitlines():
                parts = line.split()
                if len(parts) == 2 and parts[1] == ref and _SHA.match(parts[0]):
                    return parts[0]
        except OSError:
            pass
    return None


def git_commit(start: Path | None = None) -> str | None:
    """HEAD's commit of the checkout holding ``start`` (default: this package), or None."""
    try:
        git_dir = find_git_dir((start or Path(__file__)).resolve())
        if git_dir is None:
            return None
        head = (git_dir / "HEAD").read_text().strip()
        if head.startswith("ref:"):
            return _resolve_ref(git_dir, head.removeprefix("ref:").strip())
        return head if _SHA.match(head) else None
    except OSError:
        return None
