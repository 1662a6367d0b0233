"""A hub dataset's split, loaded with ``datasets`` (imported lazily); shared by prompts and conversations."""

from __future__ import annotations

from typing import Any

from joules_worker.config import DatasetConfig
from joules_worker.errors import DatasetError, TransientError, transient_reason


def hub_dataset(dataset: DatasetConfig) -> Any:
    """The hub dataset's split (``datasets.load_dataset``); unavailable = DatasetError or TransientError."""
    import datasets

    what = f"hub dataset {dataset.name!r} split {dataset.split!r}" + (
        f" revision {dataset.revision!r}" if dataset.revision else ""
    )
    try:
        ds = datasets.load_dataset(dataset.name, split=dataset.split, revision=dataset.revision)
    except Exception as e:  # noqa: BLE001 - hub, network and split errors all mean "dataset unavailable"
        reason = transient_reason(e)
        if reason is not None:
            raise TransientError(f"cannot load {what}: transient failure ({reason}): {e}") from e
        raise DatasetError(f"cannot load {what}: {e}") from e
    return ds
