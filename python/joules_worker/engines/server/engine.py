"""Engine "server": drive an OpenAI-compatible inference server with a request load and measure the
energy of the devices it runs on.

The TypeScript side starts the server (or attaches to ``server.url``) and hands the worker its URL
and devices in ``server.url`` / ``server.devices``. The worker: selects prompts as the transformers
engine does, sends ``load.warmup_requests`` unmeasured requests, opens the energy window, runs the
load, closes the window, and writes rank-0.json (each request a batch of one), requests-rank-0.jsonl
and serving-rank-0.json.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from joules_worker import environment as env
from joules_worker.atomic_files import write_json_atomic, write_jsonl_atomic
from joules_worker.config import ExperimentConfig
from joules_worker.distributed import DistContext
from joules_worker.energy import BackendContext, GpuRef, choose_backend, get_backend
from joules_worker.engines.base import Engine
from joules_worker.engines.server import clock
from joules_worker.engines.server.energy_timeline import EnergyTimeline
from joules_worker.engines.server.http_stream import RequestRecord
from joules_worker.engines.server.load_generator import Target, closed_loop, open_loop, sequential
from joules_worker.engines.server.load_patterns import (
    Arrival,
    bursty_offsets,
    constant_offsets,
    poisson_offsets,
    read_trace,
    steady_window,
    whole_window,
)
from joules_worker.engines.server.serving_output import (
    REQUESTS_FILE,
    SERVING_FILE,
    batch_records,
    count_missing_tokens,
    serving_summary,
)
from joules_worker.errors import BadConfigError, ServerError
from joules_worker.events import EventEmitter
from joules_worker.memory import PeakMemory
from joules_worker.prompts import dataset_record, load_prompts, select_prompts
from joules_worker.raw_measurement import measurement

logger = logging.getLogger(__name__)
FATAL_KINDS = {"garbage", "truncated", "stall", "unreachable"}
TIMELINE_S = 0.1  # the steady window's energy: counters sampled at least this often


def arrivals(config: ExperimentConfig) -> list[Arrival]:
    load = config.load
    n, d = load.num_requests, load.duration_s
    if load.pattern == "constant":
        offsets = constant_offsets(load.rate, n, d)
    elif load.pattern == "poisson":
        offsets = poisson_offsets(load.rate, n, d, config.seed)
    elif load.pattern == "bursty":
        jitter = (config.traffic.delay_min_ms, config.traffic.delay_max_ms)
        offsets = bursty_offsets(load.burst_size, load.burst_interval_ms, jitter, n, d, config.seed)
    else:
        return read_trace(load.trace_file, n, d)
    return [Arrival(t) for t in offsets]


def first_failure(records: list[RequestRecord]) -> RequestRecord | None:
    return next((r for r in records if not r.ok), None)


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
        prompts = select_prompts(load_prompts(config.dataset), count, config.max_input_tokens, config.num_input_prompts)
        lengths = count(prompts)
        max_tokens = config.load.max_tokens or config.max_output_tokens

        def request_for(i: int, a: Arrival | None) -> tuple[str, int]:
            if a is not None and a.input_tokens is not None:  # trace: the prompt nearest the wanted length
                j = min(range(len(prompts)), key=lambda k: (abs(lengths[k] - a.input_tokens), k))
                return prompts[j], a.max_tokens or max_tokens
            return prompts[i % len(prompts)], (a.max_tokens if a is not None and a.max_tokens else max_tokens)

        target = Target(server.url, server.api, config.model_name, dict(server.extra_body), server.request_timeout_s)
        devices = server.devices
        gpus = tuple(GpuRef(index=i) for i in devices or ())
        bctx = BackendContext(config.energy, host, True, gpus, gpus)
        if devices is None:
            backend_cls, note = (
                get_backend("none"),
                "no energy: server.devices is not set, so the server's devices are unknown",
            )
        else:
            backend_cls, note = choose_backend(config.energy.backend, bctx)

        events.stage("warmup")
        warm = [request_for(i, None) for i in range(config.load.warmup_requests)]
        for i, r in enumerate(asyncio.run(sequential(target, warm))):
            if not r.ok:
                raise ServerError(f"warm-up request {i + 1} failed: {r.error}")
            events.emit("warmup", i=i + 1, n=len(warm))

        events.stage("measuring")
        backend = backend_cls(bctx)
        if hasattr(backend, "prepare"):
            backend.prepare()
        memory = PeakMemory(torch.device("cpu"))
        memory.reset()
        backend.start()
        timeline = EnergyTimeline(backend, min(config.energy.measure_power_secs, TIMELINE_S), clock.now)
        try:
            timeline.start()
            if config.load.pattern == "closed_loop":
                start, records = asyncio.run(
                    closed_loop(
                        target, request_for, config.load.concurrency, config.load.num_requests, config.load.duration_s
                    )
                )
            else:
                start, records = asyncio.run(open_loop(target, request_for, arrivals(config)))
        except BaseException:
            timeline.stop()
            backend.abort()
            raise
        timeline.stop()
        result = backend.stop()
        result.add_note(note)
        self._check(records)

        events.stage("writing")
        counted = count_missing_tokens(records, prompts, count)
        ok = [r for r in records if r.ok]
        whole = whole_window(start, [r.end_unix_s for r in records if r.end_unix_s is not None])
        steady = steady_window(
            [r.send_unix_s for r in records],
            [r.end_unix_s for r in ok],
            config.load.pattern == "closed_loop",
            config.load.concurrency,
        )
        batches = batch_records(records)
        energy = result.to_dict()
        values = [r.get("energy_j") for r in energy["readings"]]
        whole_j = sum(values) if values and all(v is not None for v in values) else None
        write_jsonl_atomic(out_dir / REQUESTS_FILE, [r.to_dict() for r in records])
        write_json_atomic(
            out_dir / SERVING_FILE,
            serving_summary(
                pattern=config.load.pattern,
                concurrency=config.load.concurrency,
                rate=config.load.rate,
                api=server.api,
                url=server.url,
                devices=devices,
                whole=whole,
                steady=steady,
                energy_whole_j=whole_j,
                energy_steady_measured_j=None if steady is None else timeline.between(*steady),
                records=records,
                counted=counted,
                warmup=len(warm),
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
            energy=energy,
            outputs=None,
            environment=env.environment_block(
                host=host, gpus=gpus, dataset=dataset_record(config.dataset), sharding="none"
            ),
        )
        path = write_json_atomic(out_dir / "rank-0.json", data)
        events.emit("result", path=str(path))
        return path

    @staticmethod
    def _check(records: list[RequestRecord]) -> None:
        """A broken server fails the experiment; HTTP errors of some requests are data (counted)."""
        fatal = next((r for r in records if r.error_kind in FATAL_KINDS), None)
        if fatal is not None:
            raise ServerError(f"request {fatal.index} failed ({fatal.error_kind}): {fatal.error}")
        if records and all(not r.ok for r in records):
            raise ServerError(f"all {len(records)} requests failed; the first: {first_failure(records).error}")
        if not records:
            raise ServerError("the load sent no request (load.num_requests / load.duration_s too small?)")
