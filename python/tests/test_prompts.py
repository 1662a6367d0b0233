import json
import logging

import pytest

from joules_worker.config import DatasetConfig
from joules_worker.distributed import shard
from joules_worker.errors import DatasetError
from joules_worker.prompts import builtin_prompts_path, load_prompts, select_prompts


def test_builtin_prompts_load():
    prompts = load_prompts(DatasetConfig())
    assert builtin_prompts_path().is_file()
    assert len(prompts) >= 220
    assert all(isinstance(p, str) and p.strip() for p in prompts)


def test_jsonl_file_with_default_and_explicit_column(tmp_path):
    path = tmp_path / "p.jsonl"
    rows = [{"_provenance": "test"}, {"prompt": "a", "text": "x"}, {"prompt": "b", "text": "y"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n\n")
    assert load_prompts(DatasetConfig(source="file", path=str(path))) == ["a", "b"]
    assert load_prompts(DatasetConfig(source="file", path=str(path), column="text")) == ["x", "y"]


def test_text_column_is_the_fallback(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"text": "only text"}\n')
    assert load_prompts(DatasetConfig(source="file", path=str(path))) == ["only text"]


def test_csv_file(tmp_path):
    path = tmp_path / "p.csv"
    path.write_text('id,prompt\n1,"Hello, world"\n2,"Line one\nline two"\n')
    assert load_prompts(DatasetConfig(source="file", path=str(path))) == ["Hello, world", "Line one\nline two"]


@pytest.mark.parametrize(
    ("name", "content", "column", "match"),
    [
        ("p.jsonl", '{"body": "x"}\n', None, 'no "prompt" or "text" column'),
        ("p.jsonl", '{"prompt": "x"}\n', "question", "no column 'question'"),
        ("p.jsonl", '{"prompt": 3}\n', None, "must be a string"),
        ("p.jsonl", "not json\n", None, "cannot read prompt file"),
        ("p.txt", "x\n", None, "unsupported prompt file type"),
        ("p.jsonl", "\n", None, "is empty"),
    ],
)
def test_bad_files(tmp_path, name, content, column, match):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(DatasetError, match=match) as info:
        load_prompts(DatasetConfig(source="file", path=str(path), column=column))
    assert info.value.exit_code == 6


def test_missing_file(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        load_prompts(DatasetConfig(source="file", path=str(tmp_path / "none.jsonl")))


def test_hub_dataset_unavailable_offline():
    with pytest.raises(DatasetError, match="cannot load hub dataset 'nobody/no-such-dataset'"):
        load_prompts(DatasetConfig(source="hub", name="nobody/no-such-dataset"))


def test_token_length_filter_keeps_dataset_order(tiny):
    _, tokenizer = tiny

    def count(part):
        return [len(ids) for ids in tokenizer(part)["input_ids"]]

    prompts = ["short", "a much much much longer prompt with many words in it", "tiny", "ok then"]
    limit = max(count(["short", "tiny", "ok then"]))
    assert count([prompts[1]])[0] > limit
    assert select_prompts(prompts, count, limit, 10) == ["short", "tiny", "ok then"]
    assert select_prompts(prompts, count, limit, 2) == ["short", "tiny"]


def test_fewer_prompts_fit_than_requested_warns(caplog):
    with caplog.at_level(logging.WARNING, logger="joules_worker.prompts"):
        assert select_prompts(["a", "bb", "ccc"], lambda ps: [len(p) for p in ps], 2, 5) == ["a", "bb"]
    assert "only 2 of the 5 requested prompts fit" in caplog.text


def test_no_prompt_fits():
    with pytest.raises(DatasetError, match="no prompt fits max_input_tokens=1"):
        select_prompts(["aa", "bbb"], lambda ps: [len(p) for p in ps], 1, 5)


def test_selection_stops_early_across_chunks():
    seen = []

    def count(part):
        seen.extend(part)
        return [1] * len(part)

    assert select_prompts([str(i) for i in range(1000)], count, 4, 3, chunk=10) == ["0", "1", "2"]
    assert len(seen) == 10


@pytest.mark.parametrize("world", [2, 3])
@pytest.mark.parametrize("n", [0, 1, 7, 8, 9])
def test_sharding_covers_every_prompt_once(world, n):
    items = list(range(n))
    parts = [shard(items, r, world) for r in range(world)]
    assert [x for part in parts for x in part] == items  # contiguous, in order, each exactly once
    sizes = [len(p) for p in parts]
    assert max(sizes) - min(sizes) <= 1 and sizes == sorted(sizes, reverse=True)


def test_shard_rejects_bad_rank():
    with pytest.raises(ValueError):
        shard([1], 2, 2)


def test_rows_without_a_prompt_column_are_counted_and_logged(tmp_path, caplog):
    from joules_worker.prompts import dataset_record

    path = tmp_path / "p.jsonl"
    rows = [{"_provenance": "x", "_license": "y"}, {"prompt": "a"}, {"_note": "between"}, {"prompt": "b"}]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    dataset = DatasetConfig(source="file", path=str(path))
    with caplog.at_level(logging.WARNING, logger="joules_worker.prompts"):
        assert load_prompts(dataset) == ["a", "b"]
    assert "2 row(s) without a prompt column skipped" in caplog.text and "line 1, 3" in caplog.text
    skipped = dataset_record(dataset)["rows_skipped"]
    assert skipped == {"count": 2, "lines": [1, 3], "reason": "no prompt column (metadata record)"}


def test_no_rows_skipped_is_recorded_as_zero(tmp_path, caplog):
    from joules_worker.prompts import dataset_record

    path = tmp_path / "p.csv"
    path.write_text("prompt\nx\ny\n")
    dataset = DatasetConfig(source="file", path=str(path))
    with caplog.at_level(logging.WARNING, logger="joules_worker.prompts"):
        load_prompts(dataset)
    assert "skipped" not in caplog.text
    assert dataset_record(dataset)["rows_skipped"]["count"] == 0
    assert dataset_record(DatasetConfig())["rows_skipped"]["count"] == 0  # the bundled sample
    assert dataset_record(DatasetConfig(source="hub", name="some/dataset"))["rows_skipped"] is None
