"""One experiment of the transformers engine on this rank: join the process world, load the model,
then on the loaded model select, order and shard prompts, plan batches, idle baseline, warm up,
measure, count FLOPs, write rank-<r>.json (and the timeseries / token-id files beside it)."""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joules_worker import environment as env
from joules_worker.atomic_files import write_json_atomic, write_jsonl_atomic
from joules_worker.config import ExperimentConfig
from joules_worker.distributed import DistContext, init_distributed
from joules_worker.energy import BackendContext, GpuRef, choose_backend
from joules_worker.energy.idle import apply_idle, measure_idle
from joules_worker.energy.monitor import GpuMonitor
from joules_worker.engines.transformers.batching import plan_batches
from joules_worker.engines.transformers.energy_devices import (
    CPU_WITH_GPU_IDS_ENV,
    gpu_refs,
    host_gpu_refs,
    ranks_on_host,
)
from joules_worker.engines.transformers.flop_counter import rank_flops
from joules_worker.engines.transformers.generate_arguments import (
    effective_generation_config,
    eos_token_ids,
    generate_kwargs,
)
from joules_worker.engines.transformers.generation import run_batch
from joules_worker.engines.transformers.model_loading import load_model_and_tokenizer
from joules_worker.engines.transformers.rank_prompts import length_kwargs, my_prompts
from joules_worker.engines.transformers.window import Measured, measure
from joules_worker.errors import UnsupportedError
from joules_worker.events import EventEmitter
from joules_worker.prompts import dataset_record
from joules_worker.raw_measurement import measurement

logger = logging.getLogger(__name__)


@dataclass
class LoadedModel:
    """A model and tokenizer on this rank's device. ``load_s``: seconds the load took; ``reused``:
    True when an experiment runs on a model a previous experiment of the session loaded."""

    model: Any
    tokenizer: Any
    load_s: float
    reused: bool = False


def start_rank(config: ExperimentConfig, events: EventEmitter, ctx: DistContext | None = None) -> DistContext:
    """Refuse what this worker cannot do, then join the process group (or run alone)."""
    if config.sharding.strategy == "fsdp":
        raise UnsupportedError(
            "sharding.strategy 'fsdp': this worker does not shard models yet (each rank would hold a full copy)"
        )
    ctx = ctx or init_distributed(use_gpu=bool(config.gpu_ids) and not os.environ.get(CPU_WITH_GPU_IDS_ENV))
    events.rank = ctx.rank
    return ctx


def resolve_warmup(warmup: int | str, num_parameters: int) -> int:
    """``"auto"``: 2 warm-up batches below 1e9 parameters, 3 below 1e10, 5 above."""
    if warmup != "auto":
        return int(warmup)
    if num_parameters < 1e9:
        return 2
    return 3 if num_parameters < 1e10 else 5


def load(config: ExperimentConfig, ctx: DistContext, events: EventEmitter) -> LoadedModel:
    events.stage("loading_model")
    started = time.perf_counter()
    model, tokenizer = load_model_and_tokenizer(config.model_name, config.model, config.precision, ctx.device)
    return LoadedModel(model, tokenizer, time.perf_counter() - started)


def run_one(
    config: ExperimentConfig, output_dir: str | Path, events: EventEmitter, ctx: DistContext, loaded: LoadedModel
) -> Path:
    """One experiment on an already loaded model: prompts, idle baseline, warm-up, measure, write."""
    host = env.host_name()
    out_dir = Path(output_dir)
    model, tokenizer = loaded.model, loaded.tokenizer

    events.stage("loading_prompts")
    mine = my_prompts(config, tokenizer, ctx)
    prompts, lengths = mine.prompts, mine.lengths
    plan = plan_batches(lengths, config.batching, config.batch_size, config.max_output_tokens)
    groups = [[prompts[i] for i in batch] for batch in plan]
    # lengths.output (batch_size 1): each batch generated to its one prompt's own answer length
    answers = mine.answer_lengths
    own = None if answers is None else [length_kwargs(config, answers[batch[0]]) for batch in plan]

    gpus = gpu_refs(config, ctx)
    host_gpus = host_gpu_refs(config, ctx) if gpus else ()
    bctx = BackendContext(config.energy, host, ctx.is_local_main, gpus, host_gpus, ranks_on_host(ctx))
    backend_cls, auto_note = choose_backend(config.energy.backend, bctx)
    seed_everything(config.seed)
    gen_kwargs = generate_kwargs(
        config.decoding,
        config.max_output_tokens,
        config.min_output_tokens,
        tokenizer.pad_token_id,
        eos_token_ids(model, tokenizer),
    )

    events.stage("warmup")
    idle = None
    if config.energy.idle_baseline_s > 0:  # every rank idles at once: no neighbour's warm-up heats the host
        ctx.barrier()
        idle = measure_idle(backend_cls, bctx, config.energy.idle_baseline_s)
        ctx.barrier()
    num_parameters = sum(p.numel() for p in model.parameters())
    warmup = resolve_warmup(config.warmup_iterations, num_parameters)
    if groups:
        for i in range(warmup):
            run_batch(model, tokenizer, groups[0], gen_kwargs if own is None else {**gen_kwargs, **own[0]})
            events.emit("warmup", i=i + 1, n=warmup)
    else:
        logger.warning("rank %d got no prompts: it only joins the barriers", ctx.rank)

    events.stage("measuring")
    monitor = None if backend_cls.GPU_TIMESERIES else GpuMonitor(gpus, host, config.energy.measure_power_secs)
    measured = measure(config, ctx, model, tokenizer, groups, gen_kwargs, backend_cls(bctx), monitor, events, own)
    measured.energy.add_note(auto_note)
    apply_idle(measured.energy, idle)

    events.stage("writing")
    generation = effective_generation_config(model, gen_kwargs)
    path = write_results(config, ctx, host, model, groups, gpus, measured, out_dir, loaded, generation=generation)
    events.emit("result", path=str(path))
    return path


def write_results(
    config: ExperimentConfig,
    ctx: DistContext,
    host: str,
    model: Any,
    groups: list[list[str]],
    gpus: tuple[GpuRef, ...],
    measured: Measured,
    out_dir: Path,
    loaded: LoadedModel | None = None,
    generation: dict[str, Any] | None = None,
) -> Path:
    energy = measured.energy
    if energy.timeseries:
        name = f"timeseries-rank-{ctx.rank}.jsonl"
        write_jsonl_atomic(out_dir / name, energy.timeseries)
        energy.timeseries_file = name
    executed = [p for group in groups for p in group]
    if config.save_token_ids:
        rows = [{"prompt": p, "token_ids": ids} for p, ids in zip(executed, measured.token_ids, strict=False)]
        write_jsonl_atomic(out_dir / f"token-ids-rank-{ctx.rank}.jsonl", rows)
    model_info = env.model_block(model, config.model_name)
    flops, flops_source = rank_flops(
        model,
        measured.records,
        model_info["num_parameters"] - model_info["num_embedding_parameters"],
        config.model.quantization != "none",
    )
    data = measurement(
        ctx=ctx,
        host=host,
        device=env.device_block(ctx.device),
        model=model_info,
        window=(measured.start, measured.end, measured.duration_s),
        batches=measured.records,
        flops=flops,
        memory=measured.memory,
        energy=energy.to_dict(),
        outputs={"prompts": executed, "texts": measured.texts} if config.save_outputs else None,
        environment=env.environment_block(
            host=host, gpus=gpus, dataset=dataset_record(config.dataset), sharding=config.sharding.strategy
        ),
    )
    # free-form environment records (no schema change): how the FLOPs were obtained (fallback or
    # count) and the decoding generate really ran with (model defaults overridden included)
    data["environment"].update(flops_source=flops_source, generation=generation)
    if loaded is not None:  # model reuse (session.py); free-form environment record, no schema change
        data["environment"].update(
            model_reused=loaded.reused, model_load_s=0.0 if loaded.reused else round(loaded.load_s, 6)
        )
    return write_json_atomic(out_dir / f"rank-{ctx.rank}.json", data)


def seed_everything(seed: int) -> None:
    import torch
    from transformers import set_seed

    torch.manual_seed(seed)
    set_seed(seed)
