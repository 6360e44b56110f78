import random
from decimal import Decimal

import pytest

from rumourwatch.opinion import opinion_line, opinion_shares

REPORT_2018 = {"neutral": 508_124, "positive": 296_939, "negative": 3_385}


def test_report_example_gives_the_published_line():
    assert opinion_line(REPORT_2018) == "共 808,448 条：中性 62.9%，正面 36.7%，负面 0.4%"


def test_long_form_carries_counts():
    assert opinion_line(REPORT_2018, with_counts=True) == (
        "共 808,448 条：中性 508,124 条（62.9%），正面 296,939 条（36.7%），负面 3,385 条（0.4%）")


def test_order_follows_share_not_a_fixed_order():
    line = opinion_line({"negative": 7, "neutral": 2, "positive": 1})
    assert line == "共 10 条：负面 70.0%，中性 20.0%，正面 10.0%"


def test_unscored_items_are_left_out_of_the_total():
    assert opinion_line({"positive": 1, "neutral": 3, "negative": 0, None: 50}) == (
        "共 4 条：中性 75.0%，正面 25.0%，负面 0.0%")


def test_shares_a_leader_reads_sum_to_exactly_100_percent():
    # Rounded one by one these print 45.4% + 31.9% + 22.8% = 100.1% (seen on the live page).
    line = opinion_line({"neutral": 454, "negative": 319, "positive": 228})
    assert line == "共 1,001 条：中性 45.3%，负面 31.9%，正面 22.8%"
    # 1/16 = 6.25% twice: one tenth is left to give, the tie goes to the first polarity in order.
    shares = {s.polarity: str(s.percent) for s in opinion_shares({"positive": 1, "neutral": 14, "negative": 1})}
    assert shares == {"neutral": "87.5", "positive": "6.3", "negative": "6.2"}


def test_largest_remainder_sums_to_100_and_stays_within_a_tenth_of_each_true_share():
    rng = random.Random(7)
    for _ in range(2000):
        counts = {p: rng.choice([0, 1, 2, rng.randrange(1000), rng.randrange(10**6)])
                  for p in ("neutral", "positive", "negative")}
        total = sum(counts.values())
        if not total:
            continue
        shares = opinion_shares(counts)
        assert sum(s.percent for s in shares) == 100
        for s in shares:
            assert s.count == counts[s.polarity]
            assert abs(s.percent - Decimal(s.count * 100) / total) < Decimal("0.1")


def test_zero_items_says_there_is_nothing_yet():
    line = opinion_line({"positive": 0, "neutral": 0, "negative": 0, None: 3})
    assert line.startswith("共 0 条") and "暂无" in line
    assert opinion_line({}) == line


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True])
def test_bad_counts_are_refused_with_the_polarity_named(bad):
    with pytest.raises(ValueError, match="negative"):
        opinion_line({"positive": 1, "neutral": 1, "negative": bad})
