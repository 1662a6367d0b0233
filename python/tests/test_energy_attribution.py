"""Per-request energy (engines/server/energy_attribution.py): each piece between two sends/ends shared
by the requests in flight, the unshared joules spread in proportion, the sum the window's energy."""

from __future__ import annotations

import random
import time

import pytest

from joules_worker.engines.server.energy_attribution import METHOD, attribute_energy, attribute_records
from joules_worker.engines.server.energy_timeline import EnergyTimeline
from joules_worker.engines.server.request_record import RequestRecord


def timeline_of(power: list[tuple[float, float]], until: float, step: float = 0.25) -> EnergyTimeline:
    """A sampled timeline (two readings) of a piecewise-constant power: [(from_s, watts), ...]."""

    def joules(t: float) -> float:
        out = 0.0
        for k, (t0, w) in enumerate(power):
            t1 = power[k + 1][0] if k + 1 < len(power) else float("inf")
            out += w * max(0.0, min(t, t1) - t0)
        return out

    tl = EnergyTimeline(backend=None, interval_s=step, now=time.time)  # type: ignore[arg-type]
    n = round(until / step)
    tl.samples = [(k * step, {"a": 0.75 * joules(k * step), "b": 0.25 * joules(k * step)}) for k in range(n + 1)]
    return tl


def test_overlapping_requests_share_the_pieces_they_run_together() -> None:
    # A runs 0-3, B 1-2: A alone 1 s, both 1 s (half each), A alone 1 s -> 2.5 : 0.5
    out = attribute_energy([(0.0, 3.0), (1.0, 2.0)], 30.0, None)
    assert out.method == METHOD and out.source == "prorated_by_time"
    assert out.energies == pytest.approx([25.0, 5.0])


def test_idle_gaps_are_spread_in_proportion_to_what_each_got() -> None:
    # A 0-1, B 2-5: the idle second 1-2 goes 1 : 3, as their in-flight shares
    out = attribute_energy([(0.0, 1.0), (2.0, 5.0)], 8.0, None)
    assert out.energies == pytest.approx([2.0, 6.0])


def test_the_sum_is_the_window_energy_with_either_source() -> None:
    rng = random.Random(7)
    spans = []
    for _ in range(500):
        send = rng.uniform(0, 50)
        spans.append((send, send + rng.uniform(0, 3)))
    spans.append((10.0, 10.0))  # a request that failed at once: no time in flight, 0 J
    tl = timeline_of([(0.0, 100.0), (20.0, 300.0)], 60.0)
    for timeline, source in ((None, "prorated_by_time"), (tl, "timeline")):
        out = attribute_energy(spans, 1234.5, timeline)
        assert out.source == source
        assert sum(out.energies) == pytest.approx(1234.5, rel=1e-12)
        assert out.energies[-1] == 0.0 and all(e >= 0 for e in out.energies)


def test_the_timeline_charges_a_request_for_the_power_while_it_ran() -> None:
    # 10 W for a second, then 40 W: A (first second) 10 J, B (second) 40 J; by time 25 J each
    tl = timeline_of([(0.0, 10.0), (1.0, 40.0)], 2.0)
    assert tl.totals_at([0.0, 0.5, 1.0, 2.0]) == pytest.approx([0.0, 5.0, 10.0, 50.0])
    assert tl.totals_at([0.5, 1.75])[1] - tl.totals_at([0.5, 1.75])[0] == pytest.approx(tl.between(0.5, 1.75))
    timed = attribute_energy([(0.0, 1.0), (1.0, 2.0)], 50.0, tl)
    assert timed.source == "timeline" and timed.energies == pytest.approx([10.0, 40.0])
    assert attribute_energy([(0.0, 1.0), (1.0, 2.0)], 50.0, None).energies == pytest.approx([25.0, 25.0])


def test_a_cut_outside_the_sampled_span_falls_back_to_prorating() -> None:
    tl = timeline_of([(0.0, 10.0)], 2.0)
    out = attribute_energy([(0.5, 1.0), (1.5, 2.5)], 12.0, tl)  # 2.5 s is after the last sample
    assert out.source == "prorated_by_time" and out.energies == pytest.approx([4.0, 8.0])


def test_no_energy_reading_leaves_energy_empty_and_failed_requests_get_their_share() -> None:
    ok = RequestRecord(index=0, scheduled_s=None, send_unix_s=0.0, end_unix_s=2.0)
    failed = RequestRecord(index=1, scheduled_s=None, send_unix_s=1.0, end_unix_s=2.0, error="HTTP 500")
    none = attribute_records([ok, failed], None, None)
    assert none.method is None and none.source is None and ok.energy_j is None and failed.energy_j is None
    attribute_records([ok, failed], 6.0, None)
    assert (ok.energy_j, failed.energy_j) == pytest.approx((4.5, 1.5))
    assert ok.to_dict()["energy_j"] == pytest.approx(4.5)


def test_nothing_in_flight_at_all_splits_the_window_equally() -> None:
    assert attribute_energy([(1.0, 1.0), (2.0, 2.0)], 3.0, None).energies == [1.5, 1.5]
    assert attribute_energy([], 3.0, None).energies == []


def test_a_long_load_is_attributed_in_one_sweep() -> None:
    rng = random.Random(1)
    spans = [(t, t + rng.uniform(0.1, 5)) for t in sorted(rng.uniform(0, 3600) for _ in range(100_000))]
    tl = timeline_of([(0.0, 200.0)], 3700.0, 0.1)
    start = time.process_time()
    out = attribute_energy(spans, 740_000.0, tl)
    assert time.process_time() - start < 5.0  # a quadratic cut would take minutes
    assert sum(out.energies) == pytest.approx(740_000.0, rel=1e-9)
