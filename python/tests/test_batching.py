import logging

from joules_worker.config import BatchingConfig
from joules_worker.engines.transformers.batching import plan_batches
from joules_worker.prompts import order_prompts

FIXED = BatchingConfig()


def adaptive(budget):
    return BatchingConfig(strategy="adaptive", max_tokens_per_batch=budget)


def test_fixed_batches_keep_prompt_order():
    assert plan_batches([5, 1, 9, 3, 2], FIXED, 2, 16) == [[0, 1], [2, 3], [4]]
    assert plan_batches([], FIXED, 4, 16) == []


def test_adaptive_fills_longest_first_within_the_budget():
    lengths = [10, 30, 20, 10, 30, 5]
    plan = plan_batches(lengths, adaptive(100), batch_size=8, max_output_tokens=10)
    assert plan == [[1, 4], [2, 0, 3], [5]]  # 2 x (30+10) = 80; 3 x (20+10) = 90, a 4th would be 120
    for batch in plan:
        longest = max(lengths[i] for i in batch)
        assert len(batch) * (longest + 10) <= 100
    assert sorted(i for b in plan for i in b) == list(range(len(lengths)))


def test_adaptive_respects_batch_size_as_the_most_prompts():
    plan = plan_batches([4] * 10, adaptive(10_000), batch_size=4, max_output_tokens=4)
    assert [len(b) for b in plan] == [4, 4, 2]


def test_a_prompt_over_the_budget_runs_alone(caplog):
    with caplog.at_level(logging.WARNING, logger="joules_worker.engines.transformers.batching"):
        plan = plan_batches([50, 8, 8], adaptive(40), batch_size=8, max_output_tokens=12)
    assert plan == [[0], [1, 2]]
    assert "exceed max_tokens_per_batch 40" in caplog.text


def test_prompt_ordering():
    prompts = ["ccc", "a", "bb", "dddd"]
    lengths = [3, 1, 2, 4]
    assert order_prompts(prompts, lengths, "as_given", 0) == [0, 1, 2, 3]
    assert order_prompts(prompts, lengths, "sorted_by_length", 0) == [1, 2, 0, 3]
    shuffled = order_prompts(list(range(50)), [1] * 50, "shuffle", 7)
    assert shuffled == order_prompts(list(range(50)), [1] * 50, "shuffle", 7)  # seeded
    assert shuffled != order_prompts(list(range(50)), [1] * 50, "shuffle", 8)
    assert sorted(shuffled) == list(range(50))
