"""The dashboard's pure helpers: China-time periods, safe links, explanation shapes, reaction series."""

from datetime import date, datetime

import dashboard_fixtures  # noqa: F401  (puts the repo root on sys.path)
import pytest

from dashboard import data
from rumourwatch.records import UTC


def test_today_starts_at_beijing_midnight_not_utc_midnight():
    # 17:30 UTC is already 01:30 the next day in Beijing.
    now = datetime(2026, 11, 23, 17, 30, tzinfo=UTC)
    assert data.period_bounds("today", now=now) == ("2026-11-23T16:00:00Z", "2026-11-24T16:00:00Z")
    assert data.china_today(now) == date(2026, 11, 24)


def test_last_seven_days_include_today():
    now = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    assert data.period_bounds("7d", now=now) == ("2026-11-16T16:00:00Z", "2026-11-23T16:00:00Z")
    assert data.period_bounds("all", now=now) == (None, None)


def test_custom_period_covers_both_end_days_in_either_order():
    bounds = data.period_bounds("custom", (date(2026, 11, 3), date(2026, 11, 1)))
    assert bounds == ("2026-10-31T16:00:00Z", "2026-11-03T16:00:00Z")


def test_unknown_period_is_refused():
    with pytest.raises(ValueError, match="unknown period"):
        data.period_bounds("fortnight")


@pytest.mark.parametrize("url, ok", [
    ("https://example.org/a?b=1", True), ("HTTP://example.org", True),
    ("javascript:alert(1)", False), ("data:text/html,<script>", False), ("//example.org", False),
    ("https://example.org/\"onmouseover=x", False), (None, False),
])
def test_only_plain_web_links_are_clickable(url, ok):
    assert (data.safe_url(url) is not None) is ok


@pytest.mark.parametrize("value, expected", [("12", 12), (["7"], 7), (" 3 ", 3), ("0", None), ("-2", None),
                                             ("abc", None), (None, None)])
def test_item_ids_from_query_parameters(value, expected):
    assert data.parse_item_id(value) == expected


@pytest.mark.parametrize("result", [
    {"words": [("秘方", 0.5), ("软化血管", 0.8), ("醋", -0.1)]},
    {"words": [{"term": "秘方", "weight": 0.5}, {"word": "软化血管", "contribution": 0.8}]},
    {"秘方": 0.5, "软化血管": 0.8, "醋": -0.1},
])
def test_explanations_of_any_shape_list_what_pushed_the_score_up_largest_first(result):
    rows = data.explanation_rows(result)
    assert [r["term"] for r in rows] == ["软化血管", "秘方"]


def test_reactions_accumulate_per_kind_in_time_order_in_china_time():
    rows = [{"kind": "comment", "at": "2026-11-23T02:10:00Z"}, {"kind": "repost", "at": "2026-11-23T02:00:00Z"},
            {"kind": "repost", "at": "2026-11-23T02:20:00Z"}, {"kind": "repost", "at": None}]
    assert data.cumulative_reactions(rows) == [
        {"time": "2026-11-23 10:00", "kind": "repost", "cumulative": 1},
        {"time": "2026-11-23 10:10", "kind": "comment", "cumulative": 1},
        {"time": "2026-11-23 10:20", "kind": "repost", "cumulative": 2},
    ]


def test_reaction_series_start_from_zero_at_publication():
    rows = [{"kind": "comment", "at": "2026-11-23T02:10:00Z"}]
    series = data.cumulative_reactions(rows, start="2026-11-23T01:55:00Z")
    assert series[:2] == [{"time": "2026-11-23 09:55", "kind": "repost", "cumulative": 0},
                          {"time": "2026-11-23 09:55", "kind": "comment", "cumulative": 0}]
    assert series[-1] == {"time": "2026-11-23 10:10", "kind": "comment", "cumulative": 1}
