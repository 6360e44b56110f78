"""Opinion polarity ratios in the form health commissions publish them.

The Inner Mongolia 2018 report (DOMAIN §2) reads "808,448 health items: neutral 508,124 (62.9%),
positive 296,939 (36.7%), negative 3,385 (0.4%)". Leaders expect exactly that line per period:

    共 808,448 条：中性 62.9%，正面 36.7%，负面 0.4%

Computed first into plain shares (`opinion_shares`), then rendered (`opinion_line`), so reports
and the dashboard print the same figures. Items not yet scored have no polarity and are left out
of the total; callers show them separately.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

POLARITIES = ("neutral", "positive", "negative")  # tie order when two shares are equal

# Rendered words per UI language; add a language by adding a table.
LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "positive": "正面", "neutral": "中性", "negative": "负面",
        "line": "共 {total} 条：{parts}", "part": "{label} {pct}%",
        "part_counts": "{label} {count} 条（{pct}%）", "sep": "，",
        "empty": "共 0 条：暂无已判定情感倾向的条目",
    },
}


@dataclass(frozen=True)
class Share:
    polarity: str
    count: int
    percent: Decimal  # one decimal; the shares of one line sum to exactly 100.0 (largest remainder)


def _count(counts: Mapping, key: str) -> int:
    value = counts.get(key, 0) or 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"count for {key!r} must be a whole number of 0 or more, got {value!r}")
    return value


def opinion_shares(counts: Mapping) -> list[Share]:
    """Shares of positive/neutral/negative, largest first. Other keys (e.g. None = unscored) are ignored.

    Rounded to tenths of a percent by largest remainder, so the printed shares sum to exactly
    100.0% (rounding each share on its own can print 100.1%): every share first gets its tenths
    rounded down, then the tenths still missing go to the largest remainders (ties in POLARITIES
    order). Each printed share is then less than 0.1 point from its true value.
    """
    values = {p: _count(counts, p) for p in POLARITIES}
    total = sum(values.values())
    if total == 0:
        return []
    tenths = {p: n * 1000 // total for p, n in values.items()}
    missing = 1000 - sum(tenths.values())
    for p in sorted(POLARITIES, key=lambda p: -(values[p] * 1000 % total))[:missing]:
        tenths[p] += 1
    shares = [Share(p, n, Decimal(tenths[p]) / 10) for p, n in values.items()]
    return sorted(shares, key=lambda s: (-s.count, POLARITIES.index(s.polarity)))


def opinion_line(counts: Mapping, *, with_counts: bool = False, lang: str = "zh-CN") -> str:
    """`共 808,448 条：中性 62.9%，正面 36.7%，负面 0.4%` from {"neutral": 508124, ...}.

    `with_counts=True` adds each polarity's count, as the report's long form does.
    """
    words = LABELS[lang]
    shares = opinion_shares(counts)
    if not shares:
        return words["empty"]
    template = words["part_counts"] if with_counts else words["part"]
    parts = words["sep"].join(
        template.format(label=words[s.polarity], count=f"{s.count:,}", pct=f"{s.percent:.1f}") for s in shares)
    return words["line"].format(total=f"{sum(s.count for s in shares):,}", parts=parts)
