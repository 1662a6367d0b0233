"""Prompt sources (bundled sample, JSONL/CSV file, hub dataset) and selection by token length."""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from joules_worker.config import DatasetConfig
from joules_worker.errors import DatasetError
from joules_worker.workloads.hub_dataset import hub_dataset

logger = logging.getLogger(__name__)

BUILTIN_NAME = "data/prompts.jsonl"


def builtin_prompts_path() -> Path:
    return Path(str(resources.files("joules_worker").joinpath(BUILTIN_NAME)))


def load_prompts(dataset: DatasetConfig) -> list[str]:
    """All prompts of the configured source, in dataset order (of a conversation dataset,
    ``dataset.format`` sharegpt / openai_chat: each conversation's first user turn)."""
    return load_prompts_and_answers(dataset)[0]


def load_prompts_and_answers(dataset: DatasetConfig) -> tuple[list[str], list[str | None]]:
    """The prompts (as ``load_prompts``) and beside each the dataset's answer to it: a conversation's
    first answer, None where it has none or the dataset holds prompts only."""
    from joules_worker.workloads.conversations import load_conversations, resolved_format

    if resolved_format(dataset) != "prompts":
        conversations = load_conversations(dataset)
        return [c.user_turns[0] for c in conversations], [c.answers[0] for c in conversations]
    prompts = _load_prompt_records(dataset)
    return prompts, [None] * len(prompts)


def _load_prompt_records(dataset: DatasetConfig) -> list[str]:
    if dataset.source == "builtin":
        return _from_file(builtin_prompts_path(), dataset.column)
    if dataset.source == "file":
        assert dataset.path is not None  # @joules/config: a "file" source needs a path
        return _from_file(Path(dataset.path), dataset.column)
    return _from_hub(dataset)


def select_prompts(
    prompts: Sequence[str],
    count_tokens: Callable[[list[str]], list[int]],
    max_input_tokens: int,
    num_prompts: int,
    chunk: int = 256,
) -> list[str]:
    """The first ``num_prompts`` prompts (in order) whose token count is <= ``max_input_tokens``."""
    return [prompts[i] for i in select_indices(prompts, count_tokens, max_input_tokens, num_prompts, chunk)]


def select_indices(
    prompts: Sequence[str],
    count_tokens: Callable[[list[str]], list[int]],
    max_input_tokens: int,
    num_prompts: int,
    chunk: int = 256,
) -> list[int]:
    """The indices of the prompts ``select_prompts`` selects (to keep what lies beside them, such as
    their dataset answers)."""
    selected: list[int] = []
    for start in range(0, len(prompts), chunk):
        part = list(prompts[start : start + chunk])
        for k, n in enumerate(count_tokens(part)):
            if n <= max_input_tokens:
                selected.append(start + k)
                if len(selected) == num_prompts:
                    return selected
    if not selected:
        raise DatasetError(
            f"no prompt fits max_input_tokens={max_input_tokens} ({len(prompts)} prompts in the dataset); "
            "raise max_input_tokens or use shorter prompts"
        )
    logger.warning(
        "only %d of the %d requested prompts fit max_input_tokens=%d; using %d",
        len(selected),
        num_prompts,
        max_input_tokens,
        len(selected),
    )
    return selected


def _pick_column(columns: Iterable[str], column: str | None, where: str) -> str:
    names = list(columns)
    if column is not None:
        if column not in names:
            raise DatasetError(f"{where}: no column {column!r} (columns: {', '.join(names)})")
        return column
    for default in ("prompt", "text"):
        if default in names:
            return default
    raise DatasetError(f'{where}: no "prompt" or "text" column (columns: {", ".join(names)}); set dataset.column')


def _as_prompt(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise DatasetError(f"{where}: prompt must be a string, got {type(value).__name__}")
    return value


def _from_file(path: Path, column: str | None) -> list[str]:
    prompts, skipped = _read_file(path, column)
    if skipped:
        logger.warning(
            "prompt file %s: %d row(s) without a prompt column skipped (metadata records; line %s)",
            path,
            len(skipped),
            ", ".join(str(n) for n in skipped[:10]) + (", ..." if len(skipped) > 10 else ""),
        )
    return prompts


def _read_file(path: Path, column: str | None) -> tuple[list[str], list[int]]:
    """The prompts of a JSONL/CSV file, and the line numbers of the rows skipped for having no
    prompt column (metadata records such as {"_provenance": ...}: every key starts with "_")."""
    if not path.is_file():
        raise DatasetError(f"prompt file not found: {path}")
    suffix = path.suffix.lower()
    try:
        with path.open(encoding="utf-8", newline="") as f:
            if suffix == ".jsonl":
                rows = [(i, json.loads(line)) for i, line in enumerate(f, 1) if line.strip()]
            elif suffix == ".csv":
                rows = list(enumerate(csv.DictReader(f), 2))
            else:
                raise DatasetError(f"{path}: unsupported prompt file type {suffix!r} (use .jsonl or .csv)")
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise DatasetError(f"cannot read prompt file {path}: {e}") from e
    prompts: list[str] = []
    skipped: list[int] = []
    for line_no, row in rows:
        where = f"{path}:{line_no}"
        if not isinstance(row, dict):
            raise DatasetError(f"{where}: expected a JSON object per line")
        if row and all(str(k).startswith("_") for k in row):
            skipped.append(line_no)  # a metadata record such as {"_provenance": ...}
            continue
        prompts.append(_as_prompt(row.get(_pick_column(row.keys(), column, where)), where))
    if not prompts:
        raise DatasetError(f"prompt file {path} is empty")
    return prompts, skipped


def skipped_rows(dataset: DatasetConfig) -> dict[str, Any] | None:
    """Rows of a local prompt file that hold no prompt (count and first line numbers), or None
    for a hub dataset (every row of its column is a prompt, or loading fails) and for a conversation
    dataset (workloads/conversations.py: a record without its messages is an error, not skipped)."""
    from joules_worker.workloads.conversations import resolved_format

    if dataset.source == "file" and resolved_format(dataset) != "prompts":
        return None
    path = builtin_prompts_path() if dataset.source == "builtin" else Path(dataset.path) if dataset.path else None
    if path is None:
        return None
    _, skipped = _read_file(path, dataset.column)
    return {"count": len(skipped), "lines": skipped[:100], "reason": "no prompt column (metadata record)"}


def _from_hub(dataset: DatasetConfig) -> list[str]:
    ds = hub_dataset(dataset)
    where = f"{dataset.name}[{dataset.split}]"
    col = _pick_column(ds.column_names, dataset.column, where)
    return [_as_prompt(v, where) for v in ds[col]]


def order_prompts(prompts: Sequence[str], lengths: Sequence[int], ordering: str, seed: int) -> list[int]:
    """Indices of ``prompts`` in the configured order: as given, by token length (shortest first,
    stable), or shuffled with ``random.Random(seed)``. Applied before sharding, on every rank alike."""
    indices = list(range(len(prompts)))
    if ordering == "sorted_by_length":
        indices.sort(key=lambda i: lengths[i])
    elif ordering == "shuffle":
        random.Random(seed).shuffle(indices)
    return indices


def dataset_record(dataset: DatasetConfig) -> dict[str, Any]:
    """What the prompts were, for the reproducibility record: source, name, split, revision, the
    sha256 of a local prompt file (the bundled sample included) and the rows it skipped."""
    record: dict[str, Any] = {
        "source": dataset.source,
        "name": dataset.name,
        "split": dataset.split if dataset.source == "hub" else None,
        "revision": dataset.revision,
        "path": dataset.path,
        "column": dataset.column,
        "sha256": None,
    }
    path = builtin_prompts_path() if dataset.source == "builtin" else Path(dataset.path) if dataset.path else None
    if path is not None:
        with contextlib.suppress(OSError):
            record["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        record["rows_skipped"] = skipped_rows(dataset)
    except DatasetError:  # the file went away since it was loaded: no count to give
        record["rows_skipped"] = None
    return record
