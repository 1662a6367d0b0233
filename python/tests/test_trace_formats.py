"""Trace files in the layouts people publish (trace_formats.py): Joules' own JSONL, Mooncake's JSONL
and the Azure LLM inference CSV, by name or detected; a bad line names load.trace_file, the file and
the line."""

from __future__ import annotations

import pytest

from joules_worker.engines.server.load_patterns import read_trace
from joules_worker.engines.server.trace_formats import read_rows
from joules_worker.errors import BadConfigError

MOONCAKE = (
    '{"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47, 48]}\n'
    '{"timestamp": 30535, "input_length": 6472, "output_length": 26, "hash_ids": [46, 47, 60]}\n'
    '{"timestamp": 27000, "input_length": 100, "output_length": 8, "hash_ids": [1]}\n'
)
AZURE = (
    "TIMESTAMP,ContextTokens,GeneratedTokens\n"
    "2023-11-16 18:15:46.6805900,374,44\n"
    "2023-11-16 18:15:50.9951690,396,109\n"
    "2023-11-16 18:15:46.5000000,879,20\n"
)


def test_mooncake_offsets_from_the_first_arrival_in_seconds(tmp_path) -> None:
    f = tmp_path / "mooncake.jsonl"
    f.write_text(MOONCAKE)
    layout, rows = read_rows(str(f))
    assert layout == "mooncake"
    assert rows == [(0.0, 100, 8), (pytest.approx(0.482), 6955, 52), (pytest.approx(3.535), 6472, 26)]
    arrivals = read_trace(str(f), 2, None, "mooncake")
    assert [(a.input_tokens, a.max_tokens) for a in arrivals] == [(100, 8), (6955, 52)]


def test_azure_csv_with_seven_fractional_digits(tmp_path) -> None:
    f = tmp_path / "AzureLLMInferenceTrace_conv.csv"
    f.write_text(AZURE)
    layout, rows = read_rows(str(f), "auto")
    assert layout == "azure"
    assert [(round(t, 6), i, o) for t, i, o in rows] == [(0.0, 879, 20), (0.18059, 374, 44), (4.495169, 396, 109)]
    assert [a.offset_s for a in read_trace(str(f), None, 1.0, "azure")] == [0.0, pytest.approx(0.18059)]


def test_joules_layout_stays_as_it_was(tmp_path) -> None:
    f = tmp_path / "t.jsonl"
    f.write_text('{"offset_s": 0.5, "output_tokens": 4}\n{"offset_s": 0.1}\n')
    assert read_rows(str(f)) == ("joules", [(0.1, None, None), (0.5, None, 4)])


@pytest.mark.parametrize(
    ("fmt", "text", "message"),
    [
        (
            "mooncake",
            '{"timestamp": 1, "input_length": 5}\n',
            r"t.trace:1: output_length must be an integer > 0 \(got None\) \(trace_format mooncake\)",
        ),
        (
            "auto",
            '{"timestamp": 1, "input_length": 5, "output_length": 3}\n{"input_length": 5}\n',
            r"t.trace:2: no timestamp",
        ),
        ("azure", "TIMESTAMP,ContextTokens\n", r"t.trace:1: the header has no GeneratedTokens"),
        ("azure", AZURE + "2023-11-16 18:15,1,2\n", r"t.trace:5: time data '2023-11-16 18:15' does not match"),
        ("joules", '{"timestamp": 1}\n', r"t.trace:1: no offset_s \(trace_format joules\)"),
        ("auto", "[1, 2]\n", r"t.trace:1: expected a JSON object"),
    ],
)
def test_a_bad_line_names_the_key_the_file_and_the_line(tmp_path, fmt, text, message) -> None:
    f = tmp_path / "t.trace"
    f.write_text(text)
    with pytest.raises(BadConfigError, match=r"^load\.trace_file: .*" + message):
        read_trace(str(f), None, None, fmt)


def test_azure_zone_suffixes_read_as_utc(tmp_path) -> None:
    f = tmp_path / "azure2024.csv"
    f.write_text(
        "TIMESTAMP,ContextTokens,GeneratedTokens\n2024-05-10 00:00:00.0100000+00:00,10,2\n2024-05-10 00:00:01.5+00:00,20,3\n"
    )
    assert read_rows(str(f)) == ("azure", [(0.0, 10, 2), (pytest.approx(1.49), 20, 3)])


def test_a_replayed_trace_refuses_the_keys_that_would_shape_its_prompts(tmp_path) -> None:
    from types import SimpleNamespace as ns

    from joules_worker.engines.server.trace_prompts import trace_plan

    lengths = ns(input=None, output=ns(distribution="fixed", value=4), enforce="auto", seed=None)
    config = ns(lengths=lengths, load=ns(shared_prefix_tokens=None, trace_format="mooncake"), max_input_tokens=64)
    with pytest.raises(BadConfigError, match=r"^lengths\.output: not with a replayed mooncake trace"):
        trace_plan(config, None, len, [])
