"""Multi-turn sessions (engines/server/session_load.py) against the fake OpenAI server, which records
every body and numbers its answers: each turn carries the history so far with the server's own
answers, think times are waited, each request line says its session and turn; and every request's
energy (energy_attribution.py) from a fake RAPL counter sums to the window's."""

from __future__ import annotations

import json
import statistics
from collections import defaultdict
from pathlib import Path

import pytest
from _fake_openai import run_serving, serving_config
from _fake_rapl import fake_powercap

from joules_worker.engines.server.session_plan import BLOCK, THINK_KEY, ThinkTimes
from joules_worker.errors import BadConfigError
from joules_worker.experiment_model import LognormalDistribution, NormalDistribution, UniformDistribution
from joules_worker.workloads.distributions import draw


def lines(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "requests-rank-0.jsonl").read_text().splitlines()]


def sessions_config(model: Path, url: str, sessions: dict, **kw):
    base = {"server__api": "chat", "num_requests": None, "warmup_requests": 1, "concurrency": 2}
    full = {"count": None, "turns": None, "think_time_s": 0, **sessions}  # the effective config: every key
    return serving_config(model, url, sessions=full, **{**base, **kw})


def test_each_turn_carries_the_history_with_the_servers_answers_after_its_think_time(
    tmp_path, tiny_model_dir, fake
) -> None:
    url, handler = fake
    handler.numbered = True
    think = 0.15
    summary = run_serving(
        sessions_config(tiny_model_dir, url, {"count": 3, "turns": 3, "think_time_s": think}), tmp_path
    )
    rows = lines(tmp_path)
    assert len(rows) == 9 and [r["index"] for r in rows] == list(range(9))
    by_session: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        by_session[r["session"]].append(r)
    assert sorted(by_session) == [0, 1, 2]
    bodies = handler.bodies[1:]  # the warm-up's single request first
    assert len(bodies) == 9 and all(len(b["messages"][0]) == 2 for b in bodies)
    # Each session's chain of bodies, found by content (two sessions' sends may reach the fake in
    # either order): a turn's messages are the last turn's, then the server's answer to it (the
    # fake's " #k", k its arrival number), then a new user message.
    chains = [[b] for b in bodies if len(b["messages"]) == 1]
    for chain in chains:
        while True:
            last = chain[-1]
            k = handler.bodies.index(last) + 1
            answer = {"role": "assistant", "content": f" hello world #{k}"}
            nxt = [b for b in bodies if b["messages"][:-1] == [*last["messages"], answer]]
            if not nxt:
                break
            assert len(nxt) == 1 and nxt[0]["messages"][-1]["role"] == "user"
            chain.append(nxt[0])
    assert sorted(len(c) for c in chains) == [3, 3, 3]
    users = {b["messages"][-1]["content"] for b in bodies}
    for turns in by_session.values():
        turns.sort(key=lambda r: r["turn"])
        assert [r["turn"] for r in turns] == [1, 2, 3]
        for a, b in zip(turns, turns[1:], strict=False):
            pause = b["send_unix_s"] - a["end_unix_s"]
            assert think <= pause < think + 1.0, pause  # the think time, and no long extra wait
    assert len(users) == 9  # every turn a prompt of its own
    s = summary["sessions"]
    assert (s["started"], s["completed"], s["incomplete"]) == (3, 3, [])
    assert s["turns_per_session_mean"] == 3.0 and s["think_time_s"] == think
    assert s["think_time_waited_mean_s"] == pytest.approx(think)
    per_turn = s["per_turn"]
    assert [t["turn"] for t in per_turn] == [1, 2, 3] and all(t["requests"] == 3 for t in per_turn)
    tokens = [t["input_tokens_mean"] for t in per_turn]
    assert tokens[0] < tokens[1] < tokens[2], tokens  # the history grows (tokenizer counted: no usage)
    assert all(r["energy_j"] is None for r in rows) and summary["energy_attribution"] is None  # backend none


def test_a_system_message_each_conversations_own_turns_and_its_answer_lengths(tmp_path, tiny_model_dir, fake) -> None:
    from transformers import AutoTokenizer

    url, handler = fake
    data = tmp_path / "chats.jsonl"
    chats = [
        {"messages": [{"role": "user", "content": f"warm {i}"}, {"role": "assistant", "content": "x"}]}
        for i in range(1)
    ] + [
        {
            "messages": [
                {"role": "system", "content": f"be brief {i}"},
                *[
                    m
                    for t in range(i + 1)
                    for m in (
                        {"role": "user", "content": f"c{i} t{t}"},
                        {"role": "assistant", "content": "one two three four " * t + "end"},
                    )
                ],
            ]
        }
        for i in range(1, 3)
    ]
    data.write_text("".join(json.dumps(c) + "\n" for c in chats))
    dataset = {"dataset__source": "file", "dataset__path": str(data), "dataset__format": "openai_chat"}
    summary = run_serving(
        sessions_config(
            tiny_model_dir,
            url,
            {"count": 2, "turns": None},
            lengths__output={"distribution": "dataset", "cap": 6},
            **dataset,
        ),
        tmp_path / "out",
    )
    rows = lines(tmp_path / "out")
    assert sorted((r["session"], r["turn"]) for r in rows) == [(0, 1), (0, 2), (1, 1), (1, 2), (1, 3)]
    assert handler.bodies[0]["messages"] == [{"role": "user", "content": "warm 0"}]
    last = max(handler.bodies[1:], key=lambda b: len(b["messages"]))["messages"]
    assert last[0] == {"role": "system", "content": "be brief 2"}
    assert [m["content"] for m in last if m["role"] == "user"] == ["c2 t0", "c2 t1", "c2 t2"]
    assert summary["sessions"]["turns"] is None and summary["sessions"]["completed"] == 2
    # lengths.output dataset: each turn asks for its own dataset answer's length (capped at 6)
    tokenizer = AutoTokenizer.from_pretrained(str(tiny_model_dir))
    answers = [m["content"] for m in chats[2]["messages"] if m["role"] == "assistant"]
    wanted = [min(len(tokenizer(a, add_special_tokens=False)["input_ids"]), 6) for a in answers]
    turns = sorted(
        (b for b in handler.bodies[1:] if b["messages"][0]["content"] == "be brief 2"), key=lambda b: len(b["messages"])
    )
    assert [b["max_tokens"] for b in turns] == wanted
    assert len(set(wanted)) > 1


def test_a_prompt_dataset_needs_turns(tmp_path, tiny_model_dir, fake) -> None:
    url, _ = fake
    with pytest.raises(BadConfigError, match="load.sessions.turns: set it with a prompt dataset"):
        run_serving(sessions_config(tiny_model_dir, url, {"count": 2}), tmp_path)
    with pytest.raises(BadConfigError, match="load.sessions.count: 40 sessions need more"):
        run_serving(
            sessions_config(tiny_model_dir, url, {"count": 40, "turns": 2}, top__num_input_prompts=16), tmp_path
        )


def test_session_starts_follow_the_pattern_and_the_duration_bounds_the_turns(tmp_path, tiny_model_dir, fake) -> None:
    url, _ = fake
    config = sessions_config(
        tiny_model_dir,
        url,
        {
            "count": None,
            "turns": 3,
            "think_time_s": {"distribution": "uniform", "mean": 0.3, "range_ratio": 0.5, "min": None, "max": None},
        },
        pattern="constant",
        concurrency=None,
        rate=4.0,
        duration_s=1.0,
    )
    summary = run_serving(config, tmp_path)
    rows = lines(tmp_path)
    start = summary["whole_window"]["start_unix_s"]
    firsts = [r for r in rows if r["turn"] == 1]
    assert [r["scheduled_s"] for r in firsts] == pytest.approx([0.0, 0.25, 0.5, 0.75])
    assert all(r["scheduled_s"] is None and r["send_lag_s"] is None for r in rows if r["turn"] > 1)
    # no turn sent after load.duration_s (the send is stamped when the body is written: a few ms after the check)
    assert all(r["send_unix_s"] < start + 1.01 for r in rows)
    s = summary["sessions"]
    assert s["started"] == 4 and s["incomplete"] and s["completed"] + len(s["incomplete"]) == 4
    assert 0.15 <= s["think_time_waited_mean_s"] <= 0.45


def test_every_request_gets_its_share_of_the_window_energy(tmp_path, tiny_model_dir, fake) -> None:
    url, _ = fake
    with fake_powercap(tmp_path / "powercap", watts=40.0):
        config = sessions_config(
            tiny_model_dir,
            url,
            {"count": 4, "turns": 2, "think_time_s": 0.05},
            backend="rapl",
            energy__measure_power_secs=0.02,
        )
        summary = run_serving(config, tmp_path / "out")
    rows = lines(tmp_path / "out")
    assert summary["energy_attribution"] == "in_flight_share" and summary["energy_attribution_source"] == "timeline"
    energies = [r["energy_j"] for r in rows]
    assert all(e is not None and e > 0 for e in energies)
    assert sum(energies) == pytest.approx(summary["energy_whole_j"], rel=1e-9)
    window = summary["whole_window"]["duration_s"]
    assert summary["energy_whole_j"] == pytest.approx(40.0 * window, rel=0.3)  # the fake's 40 W over the window
    per_turn = {t["turn"]: t["energy_j_mean"] for t in summary["sessions"]["per_turn"]}
    assert per_turn[1] > 0 and per_turn[2] > 0


@pytest.mark.parametrize(
    "think",
    [
        UniformDistribution(distribution="uniform", mean=1.0, range_ratio=0.5),
        NormalDistribution(distribution="normal", mean=0.2, std=0.3),
        LognormalDistribution(distribution="lognormal", mean=1.0, std=2.0),
    ],
)
def test_think_times_are_one_seeded_stream_however_far_it_is_read(think) -> None:
    stream = ThinkTimes(think, seed=5)
    read = [v for n in (2, 0, 3, 1500, 700) for v in stream.take(n)]
    assert read == list(ThinkTimes(think, seed=5).take(len(read)))
    assert read[:BLOCK] == [max(v, 0.0) for v in draw(think, BLOCK, 5, THINK_KEY, integers=False)]
    assert read != list(ThinkTimes(think, seed=6).take(len(read)))
    positive = [v for v in read if v > 0]
    assert min(read) >= 0.0 and len(set(positive)) == len(positive) > len(read) / 2
    if think.distribution != "normal":  # (the normal's negative draws are waited as 0)
        assert statistics.fmean(read) == pytest.approx(think.mean, rel=0.05)
    assert ThinkTimes(0.5, seed=5).take(3) == (0.5, 0.5, 0.5)


def test_a_duration_bound_load_stops_starting_sessions_when_the_prompts_run_out(tmp_path, tiny_model_dir, fake) -> None:
    url, _ = fake
    config = sessions_config(tiny_model_dir, url, {"turns": 3}, duration_s=30.0, top__num_input_prompts=7)
    summary = run_serving(config, tmp_path)  # 1 warm-up prompt, then 2 sessions of 3 prompts
    assert summary["sessions"]["started"] == 2 and summary["sessions"]["ran_out"] is True
    assert summary["prompts_ran_out"] is True and summary["whole_window"]["duration_s"] < 10
    reused = run_serving(
        sessions_config(tiny_model_dir, url, {"count": 5, "turns": 3}, prompt_reuse=True, top__num_input_prompts=7),
        tmp_path / "reuse",
    )
    assert reused["sessions"]["completed"] == 5 and reused["sessions"]["ran_out"] is False
