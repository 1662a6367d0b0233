"""Build frozen dataclasses from parsed JSON, strictly: unknown, missing and mistyped keys are errors.

Supported field types (those experiment_model.py's generator writes): bool, int, float, str,
Literal[...], list[T], dict[str, Any], Optional[T], unions of those (tried in order) and nested
dataclasses. Messages name the dotted path of the field. Values are not range-checked here: that is
the JSON Schema's job (schema_validation.py).
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Any, Literal, Union

from joules_worker.errors import BadConfigError


def build(cls: type, data: Any, prefix: str = "") -> Any:
    if not isinstance(data, dict):
        raise BadConfigError(f"{prefix.rstrip('.') or '<root>'}: expected an object, got {type_name(data)}")
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise BadConfigError(f"{prefix}{unknown[0]}: unknown key (known keys: {', '.join(sorted(names))})")
    missing = [n for n in names if n not in data]
    if missing:
        raise BadConfigError(
            f"{prefix}{missing[0]}: missing (the worker expects the effective config, every key present)"
        )
    return cls(**{n: coerce(hints[n], data[n], f"{prefix}{n}") for n in names})


def coerce(tp: Any, value: Any, key: str) -> Any:
    origin = typing.get_origin(tp)
    if origin in (Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        if len(options) == 1:
            return coerce(options[0], value, key)
        for option in options:
            try:
                return coerce(option, value, key)
            except BadConfigError:
                continue
        raise BadConfigError(
            f"{key}: expected {' or '.join(describe(o) for o in options)}, got {type_name(value)} {value!r}"
        )
    if origin is Literal:
        allowed = typing.get_args(tp)
        if not any(value == a and type(value) is type(a) for a in allowed):
            raise BadConfigError(f"{key}: expected one of {', '.join(map(repr, allowed))}, got {value!r}")
        return value
    if origin is list:
        if not isinstance(value, list):
            raise BadConfigError(f"{key}: expected a list, got {type_name(value)}")
        (item,) = typing.get_args(tp)
        return [coerce(item, v, f"{key}[{i}]") for i, v in enumerate(value)]
    if dataclasses.is_dataclass(tp):
        return build(tp, value, f"{key}.")
    if tp is dict or origin is dict:  # a free-form JSON object (e.g. server.extra_body)
        if not isinstance(value, dict):
            raise BadConfigError(f"{key}: expected an object, got {type_name(value)}")
        return dict(value)
    if tp is Any:
        return value
    if tp not in _SCALARS:
        raise TypeError(f"{key}: {tp!r} is not a type the builder knows (see this module's docstring)")
    if not _SCALARS[tp](value):
        raise BadConfigError(f"{key}: expected {tp.__name__}, got {type_name(value)} {value!r}")
    if tp is float:
        if not math.isfinite(value):
            raise BadConfigError(f"{key}: must be a finite number, got {value!r}")
        return float(value)
    return value


_SCALARS = {
    bool: lambda v: isinstance(v, bool),
    int: lambda v: isinstance(v, int) and not isinstance(v, bool),
    float: lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    str: lambda v: isinstance(v, str),
}


def describe(tp: Any) -> str:
    if typing.get_origin(tp) is Literal:
        return " or ".join(map(repr, typing.get_args(tp)))
    return getattr(tp, "__name__", str(tp))


def type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__
