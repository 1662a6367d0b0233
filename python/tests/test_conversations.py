import json

import pytest

from joules_worker.config import DatasetConfig
from joules_worker.errors import BadConfigError, DatasetError
from joules_worker.prompts import load_prompts, load_prompts_and_answers, skipped_rows
from joules_worker.workloads.conversations import Conversation, load_conversations, resolved_format

SHAREGPT = [
    {"id": "a", "conversations": [{"from": "human", "value": "Hi?"}, {"from": "gpt", "value": "Hello."}]},
    {  # opens with the model: its leading turn is skipped; a record-level system message
        "system": "Be brief.",
        "conversations": [
            {"from": "gpt", "value": "I start."},
            {"from": "user", "value": "Q1"},
            {"from": "chatgpt", "value": "A1"},
            {"from": "human", "value": "Q2"},
            {"from": "human", "value": "more"},
            {"from": "bard", "value": "A2"},
            {"from": "assistant", "value": "A2b"},
            {"from": "human", "value": "Q3"},
        ],
    },
    {"conversations": []},  # empty: skipped
]
OPENAI = [
    {
        "messages": [
            {"role": "system", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "part1 "}, {"type": "text", "text": "part2"}]},
            {"role": "assistant", "content": "ans"},
        ]
    },
    {"messages": [{"role": "user", "content": "only"}]},
]
EXPECTED_SHAREGPT = [
    Conversation(("Hi?",), ("Hello.",)),
    Conversation(("Q1", "Q2\n\nmore", "Q3"), ("A1", "A2\n\nA2b", None), "Be brief."),
]
EXPECTED_OPENAI = [Conversation(("part1 part2",), ("ans",), "sys"), Conversation(("only",), (None,))]


def _file(tmp_path, name, records, as_list):
    path = tmp_path / name
    path.write_text(json.dumps(records, indent=2) if as_list else "\n".join(json.dumps(r) for r in records) + "\n")
    return DatasetConfig(source="file", path=str(path))


@pytest.mark.parametrize("as_list", [False, True])
def test_sharegpt_file_auto_and_explicit(tmp_path, as_list):
    ds = _file(tmp_path, "c.json" if as_list else "c.jsonl", SHAREGPT, as_list)
    assert resolved_format(ds) == "sharegpt"
    assert load_conversations(ds) == EXPECTED_SHAREGPT
    explicit = DatasetConfig(source="file", path=ds.path, format="sharegpt")
    assert load_conversations(explicit) == EXPECTED_SHAREGPT
    assert load_prompts(ds) == ["Hi?", "Q1"]
    assert load_prompts_and_answers(ds) == (["Hi?", "Q1"], ["Hello.", "A1"])
    assert skipped_rows(ds) is None


@pytest.mark.parametrize("as_list", [False, True])
def test_openai_chat_file(tmp_path, as_list):
    ds = _file(tmp_path, "m.jsonl", OPENAI, as_list)
    assert resolved_format(ds) == "openai_chat"
    assert load_conversations(ds) == EXPECTED_OPENAI
    assert load_prompts_and_answers(ds) == (["part1 part2", "only"], ["ans", None])


def test_named_column_and_prompt_files(tmp_path):
    records = [{"conversation": r["messages"]} for r in OPENAI]
    ds = _file(tmp_path, "lmsys.jsonl", records, False)
    assert resolved_format(ds) == "prompts"  # no known field: read as prompts (and fails there)
    named = DatasetConfig(source="file", path=ds.path, column="conversation")
    assert resolved_format(named) == "openai_chat"
    assert load_conversations(named) == EXPECTED_OPENAI
    prompts = _file(tmp_path, "p.jsonl", [{"prompt": "a"}], False)
    assert resolved_format(prompts) == "prompts"
    assert resolved_format(DatasetConfig()) == "prompts"
    assert load_prompts_and_answers(prompts) == (["a"], [None])
    with pytest.raises(BadConfigError, match='"prompts" holds prompts'):
        load_conversations(prompts)


@pytest.mark.parametrize(
    ("records", "as_list", "match"),
    [
        ([SHAREGPT[0], {"text": "x"}], False, r":2: no 'conversations' list of messages \(fields: text\)"),
        ([SHAREGPT[0], {"text": "x"}], True, r":15: record 1 of the JSON list: no 'conversations' list"),
        ([SHAREGPT[0], {"conversations": [{"from": "human"}]}], False, r":2: conversations\[0\]: expected an object"),
        ([SHAREGPT[0], {"conversations": [{"from": "tool", "value": "x"}]}], False, r":2: .*unknown from 'tool'"),
        ([SHAREGPT[0], {"conversations": [{"from": "human", "value": 3}]}], False, r":2: .*'value' is not text"),
        ([SHAREGPT[0], ["not", "an", "object"]], False, r":2: expected a JSON object"),
    ],
)
def test_bad_record_names_field_file_and_line(tmp_path, records, as_list, match):
    ds = _file(tmp_path, "bad.json", records, as_list)
    explicit = DatasetConfig(source="file", path=ds.path, format="sharegpt")
    with pytest.raises(BadConfigError, match=rf"^dataset\.path: {tmp_path}/bad\.json{match}"):
        load_conversations(explicit)


def test_broken_json_and_empty(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps(SHAREGPT[0]) + "\n\n{oops\n")
    with pytest.raises(BadConfigError, match=r"^dataset\.path: .*c\.jsonl:3: not a JSON record"):
        load_conversations(DatasetConfig(source="file", path=str(path), format="sharegpt"))
    path.write_text(json.dumps({"conversations": [{"from": "gpt", "value": "x"}]}) + "\n")
    with pytest.raises(DatasetError, match="no conversation with a user turn"):
        load_conversations(DatasetConfig(source="file", path=str(path)))
