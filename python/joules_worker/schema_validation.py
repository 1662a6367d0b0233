"""Check an experiment against the exported contract (``contract/experiment.schema.json``).

``npm run contract`` writes the schema from the zod schema of ``@joules/config``, the copy shipped in
this package (``data/experiment.schema.json``; a test keeps the two equal), and the dataclasses the
loader builds (``experiment_model.py``). The schema carries the types, enums, ranges and patterns;
the cross-field rules are @joules/config's only (contract/README.md).

``jsonschema`` is imported lazily. Where it is missing (a bare GPU machine with only torch and
transformers), the check is skipped with one warning: the loader still checks every key and type.
Set ``JOULES_WORKER_REQUIRE_SCHEMA=1`` to make its absence an error.
"""

from __future__ import annotations

import json
import logging
import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from joules_worker.errors import BadConfigError, UnsupportedError

logger = logging.getLogger(__name__)

SCHEMA_FILE = Path(__file__).resolve().parent / "data" / "experiment.schema.json"
REQUIRE_ENV = "JOULES_WORKER_REQUIRE_SCHEMA"
_warned: list[bool] = []


@lru_cache(maxsize=1)
def experiment_schema() -> dict[str, Any]:
    try:
        return json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise BadConfigError(
            f"cannot read the experiment schema {SCHEMA_FILE}: {e} (regenerate it with `npm run contract`)"
        ) from e


@lru_cache(maxsize=1)
def _validator() -> Any:
    import jsonschema

    return jsonschema.Draft202012Validator(experiment_schema())


def _path(error: Any) -> str:
    parts = [f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path]
    return "".join(parts).lstrip(".") or "<root>"


def schema_problems(data: Any) -> list[str] | None:
    """Every violation of the schema as "dotted.path: message", or None when jsonschema is missing."""
    try:
        validator = _validator()
    except ImportError as e:
        if os.environ.get(REQUIRE_ENV, "").lower() in ("1", "true", "yes"):
            raise UnsupportedError(f"{REQUIRE_ENV} is set but jsonschema is not installed ({e})") from e
        if not _warned:
            _warned.append(True)
            logger.warning("jsonschema is not installed: the experiment is checked for its keys and types only")
        return None
    from jsonschema.exceptions import best_match

    # best_match looks inside anyOf: "-5 is less than or equal to the minimum of 0", not "not valid under any"
    errors = [best_match([e]) for e in validator.iter_errors(data)]
    errors.sort(key=lambda e: (list(map(str, e.absolute_path)), e.message))
    return [f"{_path(e)}: {e.message}" for e in errors]


def check_against_schema(data: Any) -> None:
    """Raise BadConfigError naming every field the contract schema rejects."""
    problems = schema_problems(data)
    if problems:
        more = f" (and {len(problems) - 1} more: {'; '.join(problems[1:4])})" if len(problems) > 1 else ""
        raise BadConfigError(f"{problems[0]} (contract/experiment.schema.json){more}")
