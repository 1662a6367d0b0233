"""Each measured request's share of the load's energy (``energy_j`` on its request line), for every
serving workload; the summary says ``energy_attribution: "in_flight_share"``.

Method: the energy window's joules are cut at every request's send and end time. Each piece between
two successive cuts is shared equally by the requests in flight during it (sent, not yet ended: a
failed request too, it ran). A piece's joules come from the backend's counters sampled through the
load (``energy_attribution_source: "timeline"``, engines/server/energy_timeline.py) where the backend
reads them mid-span; else the window's energy is prorated by time (``"prorated_by_time"``). What no
request was in flight for (idle gaps, think times between a session's turns, the window's edges
before the first send and after the last end), and the little by which the sampled pieces miss the
backend's own reading of the window, is spread over all requests in proportion to what they already
got: the requests' energies sum to the window's energy exactly (within float rounding), so the
energy per session is the sum of its turns' and the energy per request their mean.

Why in-flight time and not tokens: a turn with a long history stays longer in prefill, in flight, and
is charged for it (its share of each piece while it runs beside others); prorating by output tokens
would charge a 10-turn history like a first turn, and prorating by input tokens would charge history
blocks the prefix cache served as if they were computed. Equal shares within a piece treat the
requests running together as a batch that costs the same per member; a request's cost is then its
time in flight weighted by how crowded the server was.

A sweep line: the cuts sorted once (O(n log n)), then a running sum S(t) of each piece's joules over
the requests in flight during it; a request's raw share is S(end) − S(send).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

METHOD = "in_flight_share"


@dataclass(frozen=True)
class Attribution:
    energies: list[float | None]  # per span, in the spans' order; None: no energy reading
    method: str | None  # METHOD, or None when there is no energy to attribute
    source: str | None  # "timeline" | "prorated_by_time" | None


def raw_shares(spans: Sequence[tuple[float, float]], totals: Sequence[float] | None) -> list[float]:
    """Each span's share of the pieces it was in flight for. ``totals``: the running energy at each
    of the sorted distinct cut times (``cut_times``), or None to weigh each piece by its duration."""
    times = cut_times(spans)
    if totals is not None and len(totals) != len(times):
        raise ValueError("totals must give one value per cut time")
    changes: dict[float, int] = {}
    for send, end in spans:
        changes[send] = changes.get(send, 0) + 1
        changes[end] = changes.get(end, 0) - 1
    running: dict[float, float] = {}  # S(t) at each cut
    s, in_flight = 0.0, 0
    for k, t in enumerate(times):
        running[t] = s
        in_flight += changes.get(t, 0)
        if k + 1 < len(times) and in_flight > 0:
            piece = (totals[k + 1] - totals[k]) if totals is not None else times[k + 1] - t
            s += max(piece, 0.0) / in_flight
    return [running[end] - running[send] for send, end in spans]


def cut_times(spans: Sequence[tuple[float, float]]) -> list[float]:
    return sorted({t for span in spans for t in span})


def scale_to(raw: Sequence[float], total_j: float) -> list[float]:
    """``raw`` scaled so it sums to ``total_j`` (the unshared joules spread in proportion to what
    each got); equal shares where nothing was attributed at all."""
    got = sum(raw)
    if got > 0:
        return [r * total_j / got for r in raw]
    return [total_j / len(raw)] * len(raw) if raw else []


def attribute_energy(spans: Sequence[tuple[float, float]], total_j: float | None, timeline: Any) -> Attribution:
    """Each span's (send, end) joules of ``total_j`` (the window's energy; None: no reading).
    ``timeline``: the load's EnergyTimeline (or None), used where it covers every cut."""
    if total_j is None or not spans:
        return Attribution([None] * len(spans), None, None)
    spans = [(send, max(end, send)) for send, end in spans]
    totals = timeline.totals_at(cut_times(spans)) if timeline is not None else None
    source = "timeline" if totals is not None else "prorated_by_time"
    return Attribution(scale_to(raw_shares(spans, totals), total_j), METHOD, source)


def attribute_records(records: Sequence[Any], total_j: float | None, timeline: Any) -> Attribution:
    """``attribute_energy`` over the load's records (each has ``send_unix_s`` and ``end_unix_s``: a
    failed request's end is when it failed); sets each record's ``energy_j``."""
    spans = [(r.send_unix_s, r.end_unix_s if r.end_unix_s is not None else r.send_unix_s) for r in records]
    out = attribute_energy(spans, total_j, timeline)
    for r, e in zip(records, out.energies, strict=True):
        r.energy_j = e
    return out
