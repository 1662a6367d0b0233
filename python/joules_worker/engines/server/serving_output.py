"""What the serving engine writes beside rank-0.json: ``requests-rank-0.jsonl`` (one line per measured
request), ``serving-rank-0.json`` (the load's windows, their energy, the workload, whether the steady
window held, the server's own metrics summed up, the client's CPU time) and, where the server has
Prometheus metrics, ``server-metrics-rank-0.jsonl`` (server_telemetry.py)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from joules_worker.engines.server.http_stream import RequestRecord
from joules_worker.engines.server.request_fields import Prompt
from joules_worker.raw_measurement import BatchRecord

REQUESTS_FILE = "requests-rank-0.jsonl"
SERVING_FILE = "serving-rank-0.json"
SERVING_SCHEMA_VERSION = 1


def count_missing_tokens(
    records: Sequence[RequestRecord],
    prompt_of: Callable[[int], Prompt],
    count_input: Callable[[list[Prompt]], list[int]],
    count_output: Callable[[list[str]], list[int]],
) -> int:
    """Fill the token counts a server did not send (no usage chunk) with the tokenizer's; flag them.
    ``prompt_of(index)`` is the prompt request ``index`` sent; ``count_input`` counts prompts as the
    server sees them (the chat template on the chat API; a session's turn: its whole message list),
    ``count_output`` generated text. Returns
    how many records were counted."""
    todo = [r for r in records if r.ok and (r.input_tokens is None or r.output_tokens is None)]
    if not todo:
        return 0
    inputs = count_input([prompt_of(r.index) for r in todo])
    outputs = count_output([r.text for r in todo])
    for r, i, o in zip(todo, inputs, outputs, strict=False):
        if r.input_tokens is None:
            r.input_tokens = i
        if r.output_tokens is None:
            r.output_tokens = o
        r.tokens_counted = True
    return len(todo)


def batch_records(records: Sequence[RequestRecord]) -> list[BatchRecord]:
    """Each successful request as a batch of one (so the raw measurement's token counts, latency and
    analytic FLOPs stay meaningful for the transformers-shaped downstream)."""
    out = []
    for r in records:
        if not r.ok or r.end_unix_s is None:
            continue
        tokens_in, tokens_out = r.input_tokens or 0, r.output_tokens or 0
        out.append(
            BatchRecord(
                size=1,
                input_tokens=tokens_in,
                output_tokens=tokens_out,
                padded_input_length=tokens_in,
                generated_steps=tokens_out,
                latency_s=r.end_unix_s - r.send_unix_s,
                ttft_s=r.ttft_s,
            )
        )
    return out


def window_dict(window: tuple[float, float] | None) -> dict[str, float] | None:
    if window is None:
        return None
    start, end = window
    return {"start_unix_s": start, "end_unix_s": end, "duration_s": max(end - start, 0.0)}


def steady_energy(
    whole: tuple[float, float],
    steady: tuple[float, float] | None,
    energy_whole_j: float | None,
    measured_j: float | None,
) -> tuple[float | None, float | None, str | None]:
    """The steady window's joules: (measured, prorated, method). Measured: ``counters_sampled`` (the
    backend's counters sampled through the load, engines/server/energy_timeline.py). Where the backend
    cannot read mid-span, only ``prorated_by_time``: the whole window's energy times the steady share
    of its time, an estimate kept apart from measured energy."""
    if steady is None or energy_whole_j is None:
        return None, None, None
    if measured_j is not None:
        return measured_j, None, "counters_sampled"
    whole_s = whole[1] - whole[0]
    if whole_s <= 0:
        return None, None, None
    return None, energy_whole_j * (steady[1] - steady[0]) / whole_s, "prorated_by_time"


def serving_summary(
    *,
    pattern: str,
    concurrency: int | None,
    rate: float | None,
    api: str,
    url: str,
    devices: list[int] | None,
    whole: tuple[float, float],
    steady: tuple[float, float] | None,
    energy_whole_j: float | None,
    energy_steady_measured_j: float | None,
    records: Sequence[RequestRecord],
    counted: int,
    warmup: int,
    prompts: dict[str, Any],
    steady_ok: tuple[bool, str | None],
    server_metrics: dict[str, Any],
    client_cpu_s: float | None,
    energy_scope: str | None,
    energy_attribution: tuple[str | None, str | None] = (None, None),
    sessions: dict[str, Any] | None = None,
) -> dict[str, Any]:
    measured, prorated, method = steady_energy(whole, steady, energy_whole_j, energy_steady_measured_j)
    return {
        "schema_version": SERVING_SCHEMA_VERSION,
        "engine": "server",
        "url": url,
        "api": api,
        "pattern": pattern,
        "concurrency": concurrency,
        "rate": rate,
        "devices": devices,
        "warmup_requests": warmup,
        "num_requests": len(records),
        "num_errors": sum(1 for r in records if not r.ok),
        "tokens_counted_requests": counted,
        "whole_window": window_dict(whole),
        "steady_window": window_dict(steady),
        "energy_whole_j": energy_whole_j,
        "energy_steady_j": measured,
        "energy_steady_prorated_j": prorated,
        "steady_energy_method": method,
        "requests_file": REQUESTS_FILE,
        # issue 22
        **prompts,  # prompt_reuse, workload, prompts_ran_out
        "steady_ok": steady_ok[0],
        "steady_ok_reason": steady_ok[1],
        "server_metrics": server_metrics,
        "client_cpu_s": client_cpu_s,
        "energy_scope": energy_scope,
        # issue 23: each request's energy_j (energy_attribution.py: method, source), the sessions block
        "energy_attribution": energy_attribution[0],
        "energy_attribution_source": energy_attribution[1],
        "sessions": sessions,
    }
