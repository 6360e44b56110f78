"""舆情风险点 (seed 001: "定期梳理舆情风险点，以问题为导向…防范突发重大舆情事件"): the topics, accounts
and places that keep producing negative or false health items, sorted out for a period.

One table per kind, each row with what it produced in the period — health items, negative ones,
flagged ones (rumour probability at or above the flag threshold), confirmed false ones (an expert's
or monitor's verdict), alerts (topics) — and in how many different weeks a flagged item came from
it. A row flagged in at least RECURRING_WEEKS weeks is a recurring risk point (持续); one that
flagged once is an incident, not yet a pattern. Topics are compared with the period before.

    points = risk_points(db, start, end, threshold=0.5)
    csv = risk_csv(points, "accounts")

The 舆情风险点 page shows it for 30 / 90 / 180 days or a range; `rumourwatch report risk` prints or
writes it; the monthly notice lists the recurring ones (reports._risk).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from . import store
from .alerts import item_region
from .exports import csv_text
from .records import CST, beijing, iso, parse_time

RECURRING_WEEKS = 2   # flagged in this many different weeks: it keeps coming back
ACCOUNTS_SHOWN = 50
MIN_REGION_ITEMS = 5  # a place with fewer health items in the period says nothing about the place
RECORD_DAYS = 90      # an account's record, on the item page and in the special report

KINDS = ("topics", "accounts", "regions")
HEADERS = {
    "topics": ("话题", "健康相关条目", "负面", "负面占比", "疑似谣言", "经核实谣言", "预警", "出现疑似谣言的周数",
               "持续风险", "上一周期疑似谣言", "变化"),
    "accounts": ("平台", "账号", "健康相关条目", "负面", "疑似谣言", "经核实谣言", "出现疑似谣言的周数", "持续风险",
                 "最近一条疑似谣言"),
    "regions": ("地区", "健康相关条目", "负面", "负面占比", "疑似谣言", "出现疑似谣言的周数", "持续风险"),
}
NO_TOPIC = "未分类"


def _share(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _weeks(start: str, end: str) -> int:
    """How many Monday-first weeks of Beijing dates [start, end) touches (the most a row can be
    flagged in; the weeks are counted on the items' China dates)."""
    first, last = parse_time(start).astimezone(CST), (parse_time(end) - timedelta(seconds=1)).astimezone(CST)
    monday = (first - timedelta(days=first.weekday())).date()
    return (last.date() - monday).days // 7 + 1


def risk_points(db, start: str, end: str, threshold: float) -> dict:
    """The period's risk points: {"period": {...}, "topics": [...], "accounts": [...], "regions": [...]},
    each list most flagged first."""
    length = parse_time(end) - parse_time(start)
    before = iso(parse_time(start) - length)
    confirmed = store.confirmed_false_items(db, start, end)
    alerts = store.alerts_by_topic(db, start, end)
    previous = {r["topic"]: r["flagged"] for r in store.topic_counts(db, before, start, threshold)}

    by_topic = Counter(c["topic"] or "" for c in confirmed)
    by_account = Counter((c["platform"], c["account"]) for c in confirmed)
    topics = []
    for r in store.topic_counts(db, start, end, threshold):
        name = r["topic"] or NO_TOPIC
        topics.append(dict(r, topic=name, negative_share=_share(r["negative"], r["items"]),
                           confirmed=by_topic[r["topic"]],
                           alerts=alerts.get(r["topic"], 0), previous_flagged=previous.get(r["topic"], 0),
                           recurring=r["flagged_weeks"] >= RECURRING_WEEKS))
    topics.sort(key=lambda r: (-r["flagged"], -r["confirmed"], -r["negative"], r["topic"]))

    accounts = [dict(r, confirmed=by_account[(r["platform"], r["account"])],
                     recurring=r["flagged_weeks"] >= RECURRING_WEEKS)
                for r in store.risk_accounts(db, start, end, threshold, ACCOUNTS_SHOWN)]
    accounts.sort(key=lambda r: (-r["confirmed"], -r["flagged"], -r["flagged_weeks"], r["platform"], r["account"]))

    places: dict[str, dict] = {}
    for user_json, extra_json, negative, flagged, week in store.risk_region_rows(db, start, end, threshold):
        region = item_region(user_json, extra_json)
        if region is None:
            continue
        p = places.setdefault(region, {"region": region, "items": 0, "negative": 0, "flagged": 0, "weeks": set()})
        p["items"] += 1
        p["negative"] += bool(negative)
        p["flagged"] += bool(flagged)
        if flagged:
            p["weeks"].add(week)
    regions = [{"region": p["region"], "items": p["items"], "negative": p["negative"],
                "negative_share": _share(p["negative"], p["items"]), "flagged": p["flagged"],
                "flagged_weeks": len(p["weeks"]), "recurring": len(p["weeks"]) >= RECURRING_WEEKS}
               for p in places.values() if p["items"] >= MIN_REGION_ITEMS]
    regions.sort(key=lambda r: (-r["flagged"], -(r["negative_share"] or 0), r["region"]))
    return {"period": {"start": start, "end": end, "weeks": _weeks(start, end), "threshold": threshold,
                       "recurring_weeks": RECURRING_WEEKS},
            "topics": topics, "accounts": accounts, "regions": regions}


def account_record(db, platform: str, account: str, now: datetime, threshold: float,
                   days: int = RECORD_DAYS) -> dict:
    """What one account published in the `days` days up to `now`, as the risk points count it: its
    health items, negative and flagged ones, the weeks a flagged one came in (RECURRING_WEEKS or
    more: a recurring risk point) and its confirmed false items. For the item page and the special
    report: is the publisher a habit or a one-off?"""
    start, end = iso(now - timedelta(days=days)), iso(now)
    counts = store.account_counts(db, platform, account, start, end, threshold)
    return dict(counts, days=days, recurring=counts["flagged_weeks"] >= RECURRING_WEEKS)


def record_text(record: dict) -> str:
    """The account's record in one line: 该账号近 90 天：健康相关条目 12 条，疑似谣言 4 条（出现于 4 个不同的周，持续风险账号）…"""
    return (f"该账号近 {record['days']} 天：健康相关条目 {record['items']} 条，疑似谣言 {record['flagged']} 条"
            + (f"（出现于 {record['flagged_weeks']} 个不同的周"
               + ("，持续风险账号）" if record["recurring"] else "）") if record["flagged"] else "")
            + f"，经核实谣言 {record['confirmed']} 条。")


def _pct(share: float | None) -> str:
    return "" if share is None else f"{100 * share:.1f}%"


def _change(now: int, before: int) -> str:
    if now == before:
        return "持平"
    return f"{now - before:+d}" if before else "新出现"


def rows(points: dict, kind: str) -> list[tuple]:
    """The table of one kind as the page and the CSV show it (HEADERS[kind])."""
    weeks = points["period"]["weeks"]
    recurring = {True: "持续", False: ""}
    if kind == "topics":
        return [(r["topic"], r["items"], r["negative"], _pct(r["negative_share"]), r["flagged"], r["confirmed"],
                 r["alerts"], f"{r['flagged_weeks']}/{weeks}", recurring[r["recurring"]], r["previous_flagged"],
                 _change(r["flagged"], r["previous_flagged"])) for r in points["topics"]]
    if kind == "accounts":
        return [(r["platform"], r["account"], r["items"], r["negative"], r["flagged"], r["confirmed"],
                 f"{r['flagged_weeks']}/{weeks}", recurring[r["recurring"]], beijing(r["last_flagged_at"]) or "")
                for r in points["accounts"]]
    if kind == "regions":
        return [(r["region"], r["items"], r["negative"], _pct(r["negative_share"]), r["flagged"],
                 f"{r['flagged_weeks']}/{weeks}", recurring[r["recurring"]]) for r in points["regions"]]
    raise ValueError(f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")


def risk_csv(points: dict, kind: str) -> str:
    """One kind's table as CSV for Excel (exports.csv_text: byte-order mark, formula-guarded)."""
    return csv_text(HEADERS[kind], rows(points, kind))


def summary(points: dict) -> str:
    """One line for the page and the command: how many recurring risk points of each kind."""
    n = {k: sum(1 for r in points[k] if r["recurring"]) for k in KINDS}
    return (f"持续风险点（{points['period']['recurring_weeks']} 周及以上出现疑似谣言）：话题 {n['topics']} 个，"
            f"账号 {n['accounts']} 个，地区 {n['regions']} 个。")
