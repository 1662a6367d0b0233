import copy
import math
import statistics
from types import SimpleNamespace

import pytest

from joules_worker.config import DatasetConfig
from joules_worker.engines.server.prompt_plan import input_counter
from joules_worker.errors import BadConfigError
from joules_worker.prompts import load_prompts
from joules_worker.workloads.distributions import draw, read_histogram
from joules_worker.workloads.synthetic_prompts import synthetic_prompts


def dist(kind, **params):
    """A config distribution as the worker sees one (the generated dataclasses' attributes)."""
    return SimpleNamespace(distribution=kind, **({"min": None, "max": None} | params))


CHAT_TEMPLATE = "{% for m in messages %}<|{{ m.role }}|>{{ m.content }}\n{% endfor %}<|assistant|>"


def test_fixed_and_seeded_uniform_is_vllms_random():
    assert draw(dist("fixed", value=12), 3, 0, "lengths.input") == [12, 12, 12]
    u = dist("uniform", mean=64, range_ratio=0.5)
    a = draw(u, 5000, 7, "lengths.input")
    assert a == draw(u, 5000, 7, "lengths.input")  # seeded
    assert a != draw(u, 5000, 8, "lengths.input")
    assert a != draw(u, 5000, 7, "lengths.output")  # a stream of its own per key
    assert (min(a), max(a)) == (32, 96)  # floor(64*0.5)..ceil(64*1.5), both ends drawn
    # the discrete uniform's mean and std: (lo+hi)/2, sqrt(((hi-lo+1)^2-1)/12)
    assert statistics.fmean(a) == pytest.approx(64, rel=0.01)
    assert statistics.pstdev(a) == pytest.approx(math.sqrt((65**2 - 1) / 12), rel=0.02)
    odd = draw(dist("uniform", mean=10.5, range_ratio=0.1), 2000, 0, "k")
    assert (min(odd), max(odd)) == (9, 12)  # floor(9.45), ceil(11.55)
    seconds = draw(dist("uniform", mean=2, range_ratio=0.5), 2000, 0, "think", integers=False)
    assert 1 <= min(seconds) < 1.01 and 2.99 < max(seconds) <= 3 and len(set(seconds)) == 2000


def test_normal_and_lognormal_moments_and_clips():
    n = draw(dist("normal", mean=100, std=20), 20000, 1, "lengths.input")
    assert statistics.fmean(n) == pytest.approx(100, rel=0.01)
    assert statistics.pstdev(n) == pytest.approx(20, rel=0.03)
    ln = draw(dist("lognormal", mean=200, std=100), 50000, 1, "lengths.input", integers=False)
    assert statistics.fmean(ln) == pytest.approx(200, rel=0.02)  # the values' mean and std, not the log's
    assert statistics.pstdev(ln) == pytest.approx(100, rel=0.05)
    clipped = draw(dist("normal", mean=100, std=50, min=80, max=120), 2000, 1, "lengths.input")
    assert min(clipped) == 80 and max(clipped) == 120
    assert min(draw(dist("normal", mean=2, std=5), 2000, 1, "lengths.input")) == 1  # integers >= 1


def test_histogram(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("length,weight\n# comment\n10,1\n\n20,3\n30,0\n")
    assert read_histogram(f, "lengths.input.file") == ([10, 20, 30], [1, 3, 0])
    d = draw(dist("histogram", file=str(f), max=15), 4000, 3, "lengths.input")
    assert set(d) == {10, 15} and d.count(15) / len(d) == pytest.approx(0.75, abs=0.03)
    f.write_text("10,1\n20,2\n")  # no header
    assert read_histogram(f, "k") == ([10, 20], [1, 2])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("value,weight\n10,1\nx,2\n", r":3: not numbers: 'x,2'"),
        ("10,1\n20\n", r':2: expected "value,weight", got 1 field'),
        ("10,1\n-5,1\n", r":2: the value must be a positive number"),
        ("10,-1\n", r":1: the weight must be a number >= 0"),
        ("value,weight\n10,0\n", r": no value with a positive weight"),
    ],
)
def test_histogram_errors_name_key_file_and_line(tmp_path, text, match):
    f = tmp_path / "h.csv"
    f.write_text(text)
    with pytest.raises(BadConfigError, match=rf"^lengths\.input\.file: {f}{match}"):
        draw(dist("histogram", file=str(f)), 3, 0, "lengths.input")
    with pytest.raises(BadConfigError, match=r"^lengths\.output\.file: cannot read"):
        draw(dist("histogram", file=str(tmp_path / "none.csv")), 3, 0, "lengths.output")


@pytest.mark.parametrize("api", ["completions", "chat"])
def test_synthetic_prompts_are_exactly_their_lengths(tiny, api):
    tokenizer = copy.deepcopy(tiny[1])  # the tiny model's BPE tokenizer
    if api == "chat":
        tokenizer.chat_template = CHAT_TEMPLATE  # counted through a template, as the chat API does
    count = input_counter(tokenizer, api)
    texts = load_prompts(DatasetConfig())
    lengths = draw(dist("uniform", mean=150, range_ratio=0.7), 300, 0, "lengths.input")
    prompts = synthetic_prompts(texts, tokenizer, count, lengths)
    assert count(prompts) == lengths
    assert len(set(prompts)) == len(prompts)
    head = "A shared system prompt of some length.\n\n"
    after = synthetic_prompts(texts, tokenizer, count, lengths[:20], [head] * 20)
    assert all(p.startswith(head) for p in after)
    assert count(after) == [count([head])[0] + n for n in lengths[:20]]


def test_dataset_answer_lengths_need_answers() -> None:
    from joules_worker.workloads.output_lengths import output_lengths

    config = SimpleNamespace(
        lengths=SimpleNamespace(output=SimpleNamespace(distribution="dataset", cap=None)), max_output_tokens=16
    )
    with pytest.raises(BadConfigError, match=r'^lengths\.output\.distribution: "dataset" takes each answer'):
        output_lengths(config, 2, [None, None], lambda texts: [3] * len(texts))
    assert output_lengths(config, 2, ["a b", None], lambda texts: [2, 0]).lengths == [2, 16]  # one missing: the cap
