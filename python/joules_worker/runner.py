"""What one rank does: load, select and shard prompts, warm up, measure, write rank-<r>.json."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from joules_worker import environment as env
from joules_worker.config import ExperimentConfig
from joules_worker.distributed import DistContext, init_distributed, shard
from joules_worker.energy import NoneBackend, get_backend
from joules_worker.energy.base import EnergyBackend
from joules_worker.events import EventEmitter
from joules_worker.flops import FlopModel, flops_block
from joules_worker.generation import BatchRecord, batches, generate_kwargs, run_batch
from joules_worker.memory import PeakMemory
from joules_worker.model_loading import load_model_and_tokenizer
from joules_worker.prompts import load_prompts, select_prompts
from joules_worker.report import measurement, write_json_atomic

logger = logging.getLogger(__name__)


def run(
    config: ExperimentConfig,
    output_dir: str | Path,
    events: EventEmitter,
    ctx: DistContext | None = None,
    attn_implementation: str | None = None,
) -> Path:
    """Run the experiment on this rank; returns the path of rank-<r>.json."""
    ctx = ctx or init_distributed(use_gpu=bool(config.gpu_ids))
    events.rank = ctx.rank

    events.stage("loading_model")
    model, tokenizer = load_model_and_tokenizer(config.model_name, config.precision, ctx.device, attn_implementation)

    events.stage("loading_prompts")
    prompts = my_prompts(config, tokenizer, ctx)

    seed_everything(config.seed)
    gen_kwargs = generate_kwargs(
        config.decoding, config.max_output_tokens, config.min_output_tokens, tokenizer.pad_token_id
    )
    groups = batches(prompts, config.batch_size)

    events.stage("warmup")
    if groups:
        for i in range(config.warmup_iterations):
            run_batch(model, tokenizer, groups[0], gen_kwargs)
            events.emit("warmup", i=i + 1, n=config.warmup_iterations)
    else:
        logger.warning("rank %d got no prompts: it only joins the barriers", ctx.rank)

    events.stage("measuring")
    host = env.host_name()
    energy = make_energy_backend(config, host, ctx)
    memory = PeakMemory(ctx.device)
    records: list[BatchRecord] = []
    texts: list[str] = []
    # The energy reader starts before the barrier: CodeCarbon probes hardware for ~1.5 s on local
    # rank 0, and the window must open at the same moment on every rank.
    energy.start()
    try:
        ctx.barrier()
        memory.reset()
        window_start = time.time()
        for i, group in enumerate(groups, 1):
            record, out = run_batch(model, tokenizer, group, gen_kwargs, want_texts=config.save_outputs)
            records.append(record)
            texts.extend(out or [])
            events.emit("batch", i=i, n=len(groups), size=record.size, latency_s=record.latency_s)
        ctx.barrier()
        window_end = time.time()
    except BaseException:
        energy.abort()
        raise
    energy_result = energy.stop()
    peak = memory.read()

    events.stage("writing")
    data = measurement(
        ctx=ctx,
        host=host,
        device=env.device_block(ctx.device),
        model=env.model_block(model, config.model_name),
        window=(window_start, window_end),
        batches=records,
        flops=flops_block(FlopModel.from_model(model), records),
        memory=peak,
        energy=energy_result.to_dict(),
        outputs={"prompts": prompts, "texts": texts} if config.save_outputs else None,
        environment=env.environment_block(),
    )
    path = write_json_atomic(Path(output_dir) / f"rank-{ctx.rank}.json", data)
    events.emit("result", path=str(path))
    return path


def my_prompts(config: ExperimentConfig, tokenizer: Any, ctx: DistContext) -> list[str]:
    """The prompts that fit max_input_tokens, first num_input_prompts of them, this rank's part."""

    def count(part: list[str]) -> list[int]:
        return [len(ids) for ids in tokenizer(part)["input_ids"]]

    selected = select_prompts(load_prompts(config.dataset), count, config.max_input_tokens, config.num_input_prompts)
    mine = shard(selected, ctx.rank, ctx.world_size)
    logger.info("rank %d: %d of %d selected prompts", ctx.rank, len(mine), len(selected))
    return mine


def seed_everything(seed: int) -> None:
    import torch
    from transformers import set_seed

    torch.manual_seed(seed)
    set_seed(seed)


def make_energy_backend(config: ExperimentConfig, host: str, ctx: DistContext) -> EnergyBackend:
    cls = get_backend(config.energy.backend)
    gpu_ids = config.gpu_ids[: config.num_processes]
    if not cls.available():
        fallback = NoneBackend(config.energy, host, ctx.is_local_main, gpu_ids)
        fallback.note = f"energy backend {cls.NAME!r} unavailable on this host: not measured"
        return fallback
    return cls(config.energy, host, ctx.is_local_main, gpu_ids)
