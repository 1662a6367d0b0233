"""Whether a load's steady window is one: ``serving_steady_ok`` and the reasons it is not.

ML.ENERGY's stability rule (ml-energy/data, ``mlenergy_data/records/runs.py``: a run is unstable when
its steady state lasts under 20 s, or its mean running batch is under 0.85 of ``max_num_seqs``)
with B = ``load.concurrency`` for the closed loop, where the server's telemetry gives the running
batch. Beside it: too few requests completed in the window, and a queue that grew through it (the
server's waiting requests, where it reports them, or for the open loop the requests in flight, which
the client knows exactly: the server fell behind the arrivals). A queue "grew" when the mean of the
window's last quarter exceeds its first quarter's by at least one request and by a quarter of the
window's mean.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

MIN_STEADY_S = 20.0  # ML.ENERGY
MIN_STEADY_REQUESTS = 10
MIN_RUNNING_SHARE = 0.85  # ML.ENERGY: mean running batch / its target
RISE_SHARE = 0.25


def _inflight_mean(spans: Sequence[tuple[float, float]], a: float, b: float) -> float:
    """Mean number of spans covering [a, b] (time-weighted)."""
    if b <= a:
        return 0.0
    return sum(max(0.0, min(e, b) - max(s, a)) for s, e in spans) / (b - a)


def _rose(first: float | None, last: float | None, mean: float | None) -> bool:
    if first is None or last is None or mean is None:
        return False
    return last - first >= max(1.0, RISE_SHARE * mean)


def _quarters_mean(samples: Sequence[dict[str, Any]], key: str, a: float, b: float) -> float | None:
    values = [s[key] for s in samples if key in s and a <= s["t_unix_s"] <= b]
    return sum(values) / len(values) if values else None


def steady_check(
    window: tuple[float, float] | None,
    *,
    closed_loop: bool,
    concurrency: int | None,
    spans: Sequence[tuple[float, float]],
    server: dict[str, Any] | None,
    samples: Sequence[dict[str, Any]],
) -> tuple[bool, str | None]:
    """(ok, why not). ``spans`` are the requests' (send, end); ``server`` the telemetry summary
    (None without /metrics) and ``samples`` its scrapes."""
    if window is None:
        return (
            False,
            "no steady window: the load is too short (closed loop: it needs more than concurrency + 1 requests)",
        )
    a, b = window
    q = (b - a) / 4
    reasons: list[str] = []
    if b - a < MIN_STEADY_S:
        reasons.append(f"steady window {b - a:.1f} s < {MIN_STEADY_S:g} s (ML.ENERGY's minimum)")
    done = sum(1 for _, e in spans if a <= e <= b)
    if done < MIN_STEADY_REQUESTS:
        reasons.append(f"{done} requests completed in the steady window (< {MIN_STEADY_REQUESTS})")
    running = server.get("running_mean") if server else None
    if closed_loop and concurrency and running is not None and running < MIN_RUNNING_SHARE * concurrency:
        reasons.append(
            f"mean running batch {running:.2f} < {MIN_RUNNING_SHARE:g} × concurrency {concurrency} "
            "(the server did not keep the users' requests running: ML.ENERGY's low batch utilization)"
        )
    waiting = server.get("waiting_mean") if server else None
    first, last = _quarters_mean(samples, "waiting", a, a + q), _quarters_mean(samples, "waiting", b - q, b)
    if _rose(first, last, waiting):
        reasons.append(f"the server's waiting requests rose through the window ({first:.1f} → {last:.1f})")
    if not closed_loop:
        first, last = _inflight_mean(spans, a, a + q), _inflight_mean(spans, b - q, b)
        if _rose(first, last, _inflight_mean(spans, a, b)):
            reasons.append(
                f"requests in flight rose through the window ({first:.1f} → {last:.1f}): the server fell behind"
            )
    return (not reasons), ("; ".join(reasons) or None)
