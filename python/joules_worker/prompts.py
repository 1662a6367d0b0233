"""Prompt sources (bundled sample, JSONL/CSV file, hub dataset) and selection by token length."""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import random
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from joules_worker.config import DatasetConfig
from joules_worker.errors import DatasetError, TransientError, transient_reason

logger = logging.getLogger(__name__)

BUILTIN_NAME = "data/prompts.jsonl"


def builtin_prompts_path() -> Path:
    return Path(str(resources.files("joules_worker").joinpath(BUILTIN_NAME)))


def load_prompts(dataset: DatasetConfig) -> list[str]:
    """All prompts of the configured source, in dataset order."""
    if dataset.source == "builtin":
        return _from_file(builtin_prompts_path(), dataset.column)
    if dataset.source == "file":
        assert dataset.path is not None  # checked by DatasetConfig
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
    selected: list[str] = []
    for start in range(0, len(prompts), chunk):
        part = list(prompts[start : start + chunk])
        for prompt, n in zip(part, count_tokens(part)):
            if n <= max_input_tokens:
                selected.append(prompt)
                if len(selected) == num_prompts:
                    return selected
    if not selected:
        raise DatasetError(
            f"no prompt fits max_input_tokens={max_input_tokens} ({len(prompts)} prompts in the dataset); "
            "raise max_input_tokens or use shorter prompts"
        )
    logger.warning(
        "only %d of the %d requested prompts fit max_input_tokens=%d; using %d",
        len(selected), num_prompts, max_input_tokens, len(selected),
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
    for line_no, row in rows:
        where = f"{path}:{line_no}"
        if not isinstance(row, dict):
            raise DatasetError(f"{where}: expected a JSON object per line")
        if row and all(str(k).startswith("_") for k in row):
            continue  # a metadata record such as {"_provenance": ...}
        prompts.append(_as_prompt(row.get(_pick_column(row.keys(), column, where)), where))
    if not prompts:
        raise DatasetError(f"prompt file {path} is empty")
    return prompts


def _from_hub(dataset: DatasetConfig) -> list[str]:
    import datasets

    what = f"hub dataset {dataset.name!r} split {dataset.split!r}" + (f" revision {dataset.revision!r}" if dataset.revision else "")
    try:
        ds = datasets.load_dataset(dataset.name, split=dataset.split, revision=dataset.revision)
    except Exception as e:  # noqa: BLE001 - hub, network and split errors all mean "dataset unavailable"
        reason = transient_reason(e)
        if reason is not None:
            raise TransientError(f"cannot load {what}: transient failure ({reason}): {e}") from e
        raise DatasetError(f"cannot load {what}: {e}") from e
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
    """What the prompts were, for the reproducibility record: source, name, split, revision, and the
    sha256 of a local prompt file (the bundled sample included)."""
    record: dict[str, Any] = {
        "source": dataset.source, "name": dataset.name, "split": dataset.split if dataset.source == "hub" else None,
        "revision": dataset.revision, "path": dataset.path, "column": dataset.column, "sha256": None,
    }
    path = builtin_prompts_path() if dataset.source == "builtin" else Path(dataset.path) if dataset.path else None
    if path is not None:
        try:
            record["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            pass
    return record
