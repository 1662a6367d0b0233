"""The serving engine's config sections (``server``, ``load``, ``slo``; issue 15), as the TS side's
@joules/config defines them. Type checks and the rules the worker relies on; no heavy imports."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from joules_worker._schema import check


@dataclass(frozen=True)
class ServerConfig:
    command: list[str] | None = None
    url: str | None = None  # the TS side sets it to the server it started
    host: str = "127.0.0.1"
    api: Literal["completions", "chat"] = "completions"
    ready_timeout_s: float = 300.0
    request_timeout_s: float = 120.0
    extra_body: dict[str, Any] = field(default_factory=dict)
    devices: list[int] | None = None  # GPUs the server runs on; [] = this host's CPU; None = unknown

    def __post_init__(self) -> None:
        check(self.ready_timeout_s > 0, "ready_timeout_s", "must be > 0")
        check(self.request_timeout_s > 0, "request_timeout_s", "must be > 0")
        check(self.devices is None or all(d >= 0 for d in self.devices), "devices", "GPU indices must be >= 0")


@dataclass(frozen=True)
class LoadConfig:
    pattern: Literal["closed_loop", "constant", "poisson", "bursty", "trace"] = "closed_loop"
    concurrency: int | None = None
    rate: float | None = None
    burst_size: int | None = None
    burst_interval_ms: float | None = None
    num_requests: int | None = None
    duration_s: float | None = None
    max_tokens: int | None = None
    warmup_requests: int = 2
    trace_file: str | None = None

    def __post_init__(self) -> None:
        for key in ("concurrency", "rate", "burst_size", "num_requests", "duration_s", "max_tokens"):
            value = getattr(self, key)
            check(value is None or value > 0, key, "must be > 0")
        check(self.burst_interval_ms is None or self.burst_interval_ms >= 0, "burst_interval_ms", "must be >= 0")
        check(self.warmup_requests >= 0, "warmup_requests", "must be >= 0")


@dataclass(frozen=True)
class SloConfig:
    ttft_ms: float | None = None
    tpot_ms: float | None = None

    def __post_init__(self) -> None:
        check(self.ttft_ms is None or self.ttft_ms > 0, "ttft_ms", "must be > 0")
        check(self.tpot_ms is None or self.tpot_ms > 0, "tpot_ms", "must be > 0")


def check_load(load: LoadConfig) -> None:
    """The pattern's required keys (the same rule as @joules/config's load-pattern); ValueError("load.key: ...")."""
    p = load.pattern
    needs = {
        "concurrency": p == "closed_loop",
        "rate": p in ("constant", "poisson"),
        "burst_size": p == "bursty",
        "burst_interval_ms": p == "bursty",
        "trace_file": p == "trace",
    }
    for key, wanted in needs.items():
        value = getattr(load, key)
        check(not wanted or value is not None, f"load.{key}", f'required when load.pattern is "{p}"')
        check(wanted or value is None, f"load.{key}", f'not valid with load.pattern "{p}"')
    check(
        p == "trace" or load.num_requests is not None or load.duration_s is not None,
        "load.num_requests",
        "set load.num_requests or load.duration_s (or both)",
    )
