"""Multi-turn sessions against the real vLLM (conftest ``vllm_url``: tiny-llama-wide on CPU, the chat
template of tests/_vllm.py): a ShareGPT file made here, 4 sessions of 3 turns, 2 at a time. Each turn
carries the history so far with vLLM's own answers, so the server's prompt_tokens grow turn by turn
and equal the tokenizer's chat-template count of the messages sent; every request's energy_j (a fake
powercap counter at a known power: this host has no RAPL) comes from the sampled counters, and each
session's energy, the sum of its turns', adds up with the others' to the window's energy."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from _fake_openai import serving_config
from _fake_rapl import fake_powercap
from _vllm import CHAT_TEMPLATE, MODEL, VLLM_MARKS

from joules_worker.engines import engine_for
from joules_worker.engines.server import engine as server_engine
from joules_worker.events import EventEmitter

pytestmark = VLLM_MARKS


def sharegpt(n: int, turns: int) -> list[dict]:
    words = ["river", "stone", "lamp", "orbit", "violin", "cedar", "harbor", "quartz", "meadow", "falcon"]
    return [
        {
            "conversations": [
                m
                for t in range(turns)
                for m in (
                    {
                        "from": "human",
                        "value": f"{words[(c + t) % 10]} {words[(3 * c + t) % 10]}: tell me more {c}.{t}",
                    },
                    {"from": "gpt", "value": "a dataset answer the session does not send"},
                )
            ]
        }
        for c in range(n)
    ]


def test_three_turn_sessions_carry_their_history_and_their_energy_adds_up(tmp_path, vllm_url, monkeypatch) -> None:
    from transformers import AutoTokenizer

    data = tmp_path / "chats.json"
    data.write_text(json.dumps(sharegpt(5, 3)))  # the first conversation's first turn is the warm-up
    captured: dict = {}

    def capture(name, fn):
        def wrapped(*args, **kw):
            captured[name] = out = fn(*args, **kw)
            return out

        monkeypatch.setattr(server_engine, name, wrapped)

    capture("session_plan", server_engine.session_plan)
    capture("run_load", server_engine.run_load)
    config = serving_config(
        MODEL,
        vllm_url,
        backend="rapl",
        concurrency=2,
        num_requests=None,
        warmup_requests=1,
        sessions={"count": 4, "turns": 3, "think_time_s": 0.05},
        server__api="chat",
        server__extra_body={"ignore_eos": True},
        top__max_output_tokens=16,
        energy__measure_power_secs=0.05,
        dataset__source="file",
        dataset__path=str(data),
        dataset__format="sharegpt",
    )
    out = tmp_path / "out"
    with fake_powercap(tmp_path / "powercap", watts=30.0):
        engine_for("server").run(config, out, EventEmitter(rank=0))
    summary = json.loads((out / "serving-rank-0.json").read_text())
    rows = [json.loads(x) for x in (out / "requests-rank-0.jsonl").read_text().splitlines()]
    sent = captured["session_plan"].sent
    answers = {r.index: r.text for r in captured["run_load"].records}

    assert len(rows) == 12 and all(r["error"] is None and r["output_tokens"] == 16 for r in rows)
    tokenizer = AutoTokenizer.from_pretrained(str(MODEL))
    sessions: dict[int, list[dict]] = defaultdict(list)
    for r in rows:
        sessions[r["session"]].append(r)
        messages = sent[r["index"]]
        ids = tokenizer.apply_chat_template(
            messages, chat_template=CHAT_TEMPLATE, add_generation_prompt=True, tokenize=True
        )
        count = len(ids["input_ids"] if isinstance(ids, dict) or hasattr(ids, "keys") else ids)
        assert r["input_tokens"] == count and not r["tokens_counted"]  # vLLM's usage, the template's count
    assert sorted(sessions) == [0, 1, 2, 3]
    conversations = sharegpt(5, 3)[1:]
    for s, turns in sessions.items():
        turns.sort(key=lambda r: r["turn"])
        assert [r["turn"] for r in turns] == [1, 2, 3]
        tokens = [r["input_tokens"] for r in turns]
        assert tokens[0] < tokens[1] < tokens[2], tokens  # the history grows
        final = sent[turns[-1]["index"]]
        assert [m["role"] for m in final] == ["user", "assistant", "user", "assistant", "user"]
        assert [m["content"] for m in final[::2]] == [m["value"] for m in conversations[s]["conversations"][::2]]
        # the history holds vLLM's own answers, not the dataset's
        assert [m["content"] for m in final[1::2]] == [answers[r["index"]] for r in turns[:2]]
    assert summary["sessions"]["completed"] == 4 and summary["sessions"]["turns_per_session_mean"] == 3.0

    # energy: from the sampled counters; each session's the sum of its turns', all of them the window's
    assert summary["energy_attribution"] == "in_flight_share"
    assert summary["energy_attribution_source"] == "timeline"
    per_session = {s: sum(r["energy_j"] for r in turns) for s, turns in sessions.items()}
    assert all(e > 0 for e in per_session.values())
    assert sum(per_session.values()) == pytest.approx(summary["energy_whole_j"], rel=1e-9)
    assert summary["energy_whole_j"] == pytest.approx(30.0 * summary["whole_window"]["duration_s"], rel=0.3)
    per_turn = summary["sessions"]["per_turn"]
    assert [t["requests"] for t in per_turn] == [4, 4, 4]
    assert per_turn[0]["input_tokens_mean"] < per_turn[2]["input_tokens_mean"]
