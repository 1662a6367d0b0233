"""Conversation datasets (issue 23): ShareGPT and OpenAI chat layouts, from a file or the hub.

- ShareGPT: a JSON list, or JSONL, of ``{"conversations": [{"from": "human"|"gpt"|"system", "value": ...}]}``
  (the roles ``user``/``assistant``, ``chatgpt``/``bard``/``bing``/``model`` of files in the wild are
  accepted; a record-level ``"system"`` string is the system message).
- OpenAI chat: JSONL (or a JSON list) of ``{"messages": [{"role": "system"|"user"|"assistant", "content": ...}]}``
  (``content`` a string or a list of ``{"type": "text", "text": ...}`` parts).

``dataset.column`` names the field holding the messages where it is not the layout's own
(``conversations`` / ``messages``). A record without the expected fields is a BadConfigError naming
``dataset.path`` (or ``dataset.name``), the file and the line the record starts on (for a JSON list
too, with the record's index in the list), or the hub row.

How a record becomes a :class:`Conversation`: leading assistant turns (a conversation that opens
with the model speaking, common in scraped ShareGPT dumps) are skipped, as are system messages after
the first turn; consecutive user turns are joined into one turn (blank line between), as are
consecutive answers, so that user turns and answers alternate. A record with no user turn at all (an
empty conversation) is skipped, and the count logged; a dataset with none is a DatasetError.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joules_worker.config import DatasetConfig
from joules_worker.errors import BadConfigError, DatasetError
from joules_worker.workloads.hub_dataset import hub_dataset

logger = logging.getLogger(__name__)

LAYOUTS = {"sharegpt": ("conversations", "from", "value"), "openai_chat": ("messages", "role", "content")}
ROLES = {
    **dict.fromkeys(("human", "user"), "user"),
    **dict.fromkeys(("gpt", "assistant", "chatgpt", "bard", "bing", "model"), "assistant"),
    "system": "system",
}


@dataclass(frozen=True)
class Conversation:
    user_turns: tuple[str, ...]  # the user's turns in order
    answers: tuple[str | None, ...]  # the dataset's answer after each user turn (None where absent); same length
    system: str | None = None  # a system message, where the conversation has one


def resolved_format(dataset: DatasetConfig) -> str:
    """``prompts``, ``sharegpt`` or ``openai_chat``: ``dataset.format``, or for ``auto`` the first
    record's fields (``conversations`` -> sharegpt, ``messages`` -> openai_chat, else prompts)."""
    if dataset.format != "auto":
        return dataset.format
    if dataset.source == "builtin":
        return "prompts"
    if dataset.source == "hub":
        ds = _hub(dataset)
        first: Any = ds[0] if len(ds) else None
    else:
        path = Path(dataset.path or "")
        if path.suffix.lower() not in (".json", ".jsonl") or not path.is_file():
            return "prompts"  # prompts.py reads it (and says what is wrong with it)
        try:
            first = next((r for _, r in _file_records(path)), None)
        except (BadConfigError, DatasetError):
            return "prompts"  # not JSON: prompts.py says what is wrong with it
    if not isinstance(first, dict):
        return "prompts"
    if dataset.column is not None:  # a named field holding the messages: by the first message's keys
        messages = first.get(dataset.column)
        m = messages[0] if isinstance(messages, list) and messages else None
        if isinstance(m, dict):
            return next((fmt for fmt, (_, role, _) in LAYOUTS.items() if role in m), "prompts")
        return "prompts"
    return next((fmt for fmt, (key, _, _) in LAYOUTS.items() if key in first), "prompts")


def load_conversations(dataset: DatasetConfig) -> list[Conversation]:
    """The dataset's conversations, in order (see the module docstring for what is skipped)."""
    fmt = resolved_format(dataset)
    if fmt not in LAYOUTS:
        raise BadConfigError(f'dataset.format: "{fmt}" holds prompts, not conversations')
    key, role_key, text_key = LAYOUTS[fmt]
    key = dataset.column or key
    if dataset.source == "hub":
        where = f"dataset.name: {dataset.name}[{dataset.split}]"
        records: Iterator[tuple[str, Any]] = ((f"{where}: row {i}", r) for i, r in enumerate(_hub(dataset)))
    else:
        path = Path(dataset.path) if dataset.path else Path()
        if dataset.source != "file" or not path.is_file():
            raise DatasetError(f"dataset.path: conversation file not found: {dataset.path}")
        records = ((f"dataset.path: {path}:{where}", r) for where, r in _file_records(path))
    out: list[Conversation] = []
    skipped = 0
    for where, record in records:
        conversation = _conversation(record, key, role_key, text_key, where)
        if conversation is None:
            skipped += 1
        else:
            out.append(conversation)
    if skipped:
        logger.warning("%d conversation(s) without a user turn skipped", skipped)
    if not out:
        raise DatasetError(f"no conversation with a user turn in the dataset ({skipped} records)")
    return out


def _hub(dataset: DatasetConfig) -> Any:
    return hub_dataset(dataset)


def _file_records(path: Path) -> Iterator[tuple[str, Any]]:
    """(``line`` or ``line: record k of the JSON list``, record) of a JSONL file or a JSON list."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as e:
        raise DatasetError(f"dataset.path: cannot read {path}: {e}") from e
    if text.lstrip().startswith("["):
        decoder = json.JSONDecoder()
        pos = text.index("[") + 1
        k = 0
        while True:
            pos = _skip(text, pos)
            if pos < len(text) and text[pos] == "]":
                return
            line = text.count("\n", 0, pos) + 1
            try:
                record, pos = decoder.raw_decode(text, pos)
            except json.JSONDecodeError as e:
                raise BadConfigError(
                    f"dataset.path: {path}:{line}: record {k} of the JSON list is not JSON: {e}"
                ) from e
            yield f"{line}: record {k} of the JSON list", record
            k += 1
            pos = _skip(text, pos)
            if pos < len(text) and text[pos] == ",":
                pos += 1
            elif pos >= len(text) or text[pos] != "]":
                raise BadConfigError(f"dataset.path: {path}:{text.count(chr(10), 0, pos) + 1}: expected , or ]")
    for i, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                yield str(i), json.loads(line)
            except json.JSONDecodeError as e:
                raise BadConfigError(f"dataset.path: {path}:{i}: not a JSON record: {e}") from e


def _skip(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n":
        pos += 1
    return pos


def _text(value: Any, where: str, what: str) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(p, dict) for p in value):  # OpenAI content parts
        return "".join(p["text"] for p in value if p.get("type") == "text" and isinstance(p.get("text"), str))
    raise BadConfigError(f"{where}: {what} is not text ({type(value).__name__})")


def _conversation(record: Any, key: str, role_key: str, text_key: str, where: str) -> Conversation | None:
    if not isinstance(record, dict):
        raise BadConfigError(f"{where}: expected a JSON object with a {key!r} list, got {type(record).__name__}")
    messages = record.get(key)
    if not isinstance(messages, list):
        have = ", ".join(map(str, record)) or "none"
        raise BadConfigError(f"{where}: no {key!r} list of messages (fields: {have})")
    system = _text(record["system"], where, '"system"') if isinstance(record.get("system"), str) else None
    users: list[str] = []
    answers: list[str | None] = []
    for j, m in enumerate(messages):
        at = f"{where}: {key}[{j}]"
        if not isinstance(m, dict) or role_key not in m or text_key not in m:
            raise BadConfigError(f"{at}: expected an object with {role_key!r} and {text_key!r}")
        role = ROLES.get(str(m[role_key]).lower())
        if role is None:
            raise BadConfigError(f"{at}: unknown {role_key} {m[role_key]!r} (expected one of {', '.join(ROLES)})")
        text = _text(m[text_key], at, repr(text_key))
        if role == "system":
            if not users and system is None:
                system = text
        elif role == "user":
            if users and answers[-1] is None:
                users[-1] += "\n\n" + text
            else:
                users.append(text)
                answers.append(None)
        elif users:  # an answer; leading assistant turns are skipped
            answers[-1] = text if answers[-1] is None else f"{answers[-1]}\n\n{text}"
    return Conversation(tuple(users), tuple(answers), system) if users else None
