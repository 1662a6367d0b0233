"""Engine "server": drive an OpenAI-compatible inference server with a request load and measure the
energy of the devices it runs on.

The TypeScript side starts the server (or attaches to ``server.url``) and hands the worker its URL
and devices in ``server.url`` / ``server.devices``. The worker: selects prompts as the transformers
engine does (prompt_plan.py: each request a prompt of its own unless ``load.prompt_reuse``), measures
the devices' idle power where ``energy.idle_baseline_s`` asks, sends ``load.warmup_requests``
unmeasured requests, opens the energy window and the server's telemetry (server_telemetry.py), runs
the load, closes them, and writes rank-0.json (each request a batch of one), requests-rank-0.jsonl,
serving-rank-0.json and, where the server has Prometheus metrics, server-metrics-rank-0.jsonl.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from joules_worker import environment as env
from joules_worker.atomic_files import write_json_atomic, write_jsonl_atomic
from joules_worker.config import ExperimentConfig
from joules_worker.distributed import DistContext
from joules_worker.energy.idle import apply_idle
from joules_worker.engines.base import Engine
from joules_worker.engines.server.answer_tokens import split_answer_tokens
from joules_worker.engines.server.energy_attribution import attribute_records
from joules_worker.engines.server.http_stream import RequestRecord
from joules_worker.engines.server.load_generator import Target, sequential
from joules_worker.engines.server.load_patterns import load_windows
from joules_worker.engines.server.measured_load import arrivals, run_load, schedule_for
from joules_worker.engines.server.prompt_plan import PromptPlan, input_counter, plan_for, workload_of
from joules_worker.engines.server.request_fields import rejection_hint
from joules_worker.engines.server.server_energy import ServerEnergy
from joules_worker.engines.server.server_telemetry import TELEMETRY_FILE, telemetry_summary
from joules_worker.engines.server.serving_output import (
    REQUESTS_FILE,
    SERVING_FILE,
    batch_records,
    count_missing_tokens,
    serving_summary,
)
from joules_worker.engines.server.session_plan import messages_counter, session_plan
from joules_worker.engines.server.session_summary import sessions_block
from joules_worker.engines.server.steady_check import steady_check
from joules_worker.engines.server.trace_prompts import replays_lengths, trace_plan
from joules_worker.errors import BadConfigError, ServerError
from joules_worker.events import EventEmitter
from joules_worker.memory import PeakMemory
from joules_worker.prompts import dataset_record
from joules_worker.raw_measurement import measurement
from joules_worker.workloads.lengths_summary import lengths_block

logger = logging.getLogger(__name__)


class ServerEngine(Engine):
    name = "server"
    starts_server = True
    supports_sessions = False

    def run(self, config: ExperimentConfig, output_dir: str | Path, events: EventEmitter) -> Path:
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

        out_dir = Path(output_dir)
        server = config.server
        if server.url is None:
            raise BadConfigError(
                "server.url: the worker needs the server's address (joules sets it when it starts the server)"
            )
        host = env.host_name()
        events.stage("loading_model")
        tokenizer = AutoTokenizer.from_pretrained(
            config.model_name, revision=config.model.revision, trust_remote_code=config.model.trust_remote_code
        )
        model_config = AutoConfig.from_pretrained(
            config.model_name, revision=config.model.revision, trust_remote_code=config.model.trust_remote_code
        )
        with torch.device("meta"):  # shapes only: the server holds the weights
            meta_model = AutoModelForCausalLM.from_config(model_config)

        def count(texts: list[str], special: bool = True) -> list[int]:
            return [len(ids) for ids in tokenizer(texts, add_special_tokens=special)["input_ids"]] if texts else []

        events.stage("loading_prompts")
        plan = plan_for(config, tokenizer, count, server.api)
        if replays_lengths(config):  # a public trace: each arrival's own input length (trace_prompts.py)
            plan = trace_plan(config, tokenizer, input_counter(tokenizer, server.api), arrivals(config))
        sessions = session_plan(config, plan, count, _output(count))  # None: single requests
        schedule = schedule_for(config, plan, sessions)  # more requests than prompts fails here, before any is sent
        target = Target.of(config)  # the decoding fields in the server's dialect (auto: asked)
        # lengths.output's, or a replayed trace's output lengths
        plan.enforce_with(config.lengths, target.dialect, config.min_output_tokens, replays_lengths(config))
        energy = ServerEnergy(config, host)

        events.stage("warmup")
        idle = energy.idle()  # the server up, its model loaded, nothing sent yet
        warm = [(p, config.load.max_tokens or config.max_output_tokens) for p in plan.warmup_prompts()]
        for i, r in enumerate(asyncio.run(sequential(target, warm))):
            if not r.ok:
                raise ServerError(f"warm-up request {i + 1} failed: {r.error}{rejection_hint(r, target)}")
            events.emit("warmup", i=i + 1, n=len(warm))

        events.stage("measuring")
        memory = PeakMemory(torch.device("cpu"))
        memory.reset()
        m = run_load(config, target, plan, schedule, energy, sessions)
        m.energy.add_note(energy.note)
        m.energy.add_note(m.telemetry.note)
        apply_idle(m.energy, idle)
        records = m.records
        self._check(records, config.load.max_error_share)

        events.stage("writing")
        prompt_of = plan.prompt_of if sessions is None else sessions.prompt_of
        count_input = messages_counter(tokenizer, input_counter(tokenizer, server.api))
        counted = count_missing_tokens(records, prompt_of, count_input, _output(count))
        split_answer_tokens(records, server.api, _output(count))
        whole, steady = load_windows(m.start, records, config.load.pattern == "closed_loop", config.load.concurrency)
        batches = batch_records(records)
        energy_block = m.energy.to_dict()
        values = [r.get("energy_j") for r in energy_block["readings"]]
        whole_j = sum(values) if values and all(v is not None for v in values) else None
        attribution = attribute_records(records, whole_j, m.timeline)  # each request's energy_j
        server_metrics = telemetry_summary(m.telemetry.samples, steady, m.telemetry.url, m.telemetry.note)
        write_jsonl_atomic(out_dir / REQUESTS_FILE, [r.to_dict() for r in records])
        if m.telemetry.samples:
            write_jsonl_atomic(out_dir / TELEMETRY_FILE, m.telemetry.samples)
        spans = [(r.send_unix_s, r.end_unix_s) for r in records if r.end_unix_s is not None]
        write_json_atomic(
            out_dir / SERVING_FILE,
            serving_summary(
                pattern=config.load.pattern,
                concurrency=config.load.concurrency,
                rate=config.load.rate,
                api=server.api,
                url=server.url,
                devices=server.devices,
                whole=whole,
                steady=steady,
                energy_whole_j=whole_j,
                energy_steady_measured_j=None if steady is None else m.timeline.between(*steady),
                records=records,
                counted=counted,
                warmup=len(warm),
                prompts=_prompts_block(config, plan, records),
                steady_ok=steady_check(
                    steady,
                    closed_loop=config.load.pattern == "closed_loop",
                    concurrency=config.load.concurrency,
                    spans=spans,
                    server=server_metrics if m.telemetry.samples else None,
                    samples=m.telemetry.samples,
                ),
                server_metrics=server_metrics,
                client_cpu_s=m.client_cpu_s,
                energy_scope=energy.scope,
                energy_attribution=(attribution.method, attribution.source),
                sessions=sessions_block(config.load.sessions, m.sessions),
            ),
        )
        from joules_worker.flops import analytic_model, flops_block

        model_info = env.model_block(meta_model, config.model_name)
        flops = flops_block(
            analytic_model(meta_model),
            batches,
            "analytic",
            model_info["num_parameters"] - model_info["num_embedding_parameters"],
            False,
        )
        ctx = DistContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
        data = measurement(
            ctx=ctx,
            host=host,
            device=env.device_block(ctx.device),
            model=model_info,
            window=(whole[0], whole[1], whole[1] - whole[0]),
            batches=batches,
            flops=flops,
            memory=memory.read(),
            energy=energy_block,
            outputs=None,
            environment=env.environment_block(
                host=host, gpus=energy.gpus, dataset=dataset_record(config.dataset), sharding="none"
            ),
        )
        path = write_json_atomic(out_dir / "rank-0.json", data)
        events.emit("result", path=str(path))
        return path

    @staticmethod
    def _check(records: list[RequestRecord], max_error_share: float) -> None:
        """Failed requests are data (kept, counted) up to ``load.max_error_share``; past it, or when
        every request failed (a server unreachable or dead throughout), the experiment fails."""
        if not records:
            raise ServerError("the load sent no request (load.num_requests / load.duration_s too small?)")
        failed = [r for r in records if not r.ok]
        if not failed:
            return
        first = f"the first: request {failed[0].index} ({failed[0].error_kind}): {failed[0].error}"
        if len(failed) == len(records):
            raise ServerError(f"all {len(records)} requests failed; {first}")
        share = len(failed) / len(records)
        if share > max_error_share:
            raise ServerError(
                f"{len(failed)} of {len(records)} requests failed ({share:.0%}), more than load.max_error_share "
                f"{max_error_share:g}; {first}"
            )
        logger.warning("%d of %d requests failed (kept in the requests file); %s", len(failed), len(records), first)


def _output(count: Any) -> Any:
    return lambda texts: count(texts, False)


def _prompts_block(config: ExperimentConfig, plan: PromptPlan, records: list[RequestRecord]) -> dict[str, Any]:
    load = config.load
    return {
        "prompt_reuse": load.prompt_reuse,
        "workload": workload_of(load.prompt_reuse, load.shared_prefix_tokens),
        "shared_prefix_tokens": load.shared_prefix_tokens,
        "shared_prefix_count": load.shared_prefix_count if load.shared_prefix_tokens else None,
        "lengths": lengths_block(config, plan.enforced, records, plan.output.missing if plan.output else None),
        "prompts": len(plan.prompts),
        "prompts_ran_out": plan.ran_out,
    }
