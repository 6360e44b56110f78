"""All caching and every call into the core package, for the dashboard pages.

Pages hold UI only; they ask this module for plain data. The store is opened read-only once per
database file (`st.cache_resource`); query results are cached (`st.cache_data`) under a *data
version* — the highest row ids of the tables the worker appends to — so a page sees new items
on its next refresh, and repeated refreshes of an idle store cost one tiny query.

Errors the user can act on come out as `RumourwatchError` (a missing database, a broken one, a
bad setting); pages turn them into `st.error`/`st.info`.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import streamlit as st

from rumourwatch import readings, store
from rumourwatch import search as item_search
from rumourwatch.config import Settings, load_settings
from rumourwatch.demo_history import state as demo_history_state
from rumourwatch.errors import RumourwatchError, StoreError
from rumourwatch.knowledge import FAINT_SIMILARITY
from rumourwatch.opinion import opinion_line, opinion_shares
from rumourwatch.records import CST, UTC, beijing, iso, parse_time

CACHE_TTL_SECONDS = 600  # results are keyed by data version; the TTL only bounds memory
FEED_LIMIT = 50
TOP_LIMIT = 15
PERIODS = ("today", "7d", "30d", "all", "custom")
PERIOD_DAYS = {"today": 1, "7d": 7, "30d": 30}


def now_utc() -> datetime:
    return datetime.now(UTC)


def settings() -> Settings:
    """Current settings (env `RUMOURWATCH_*`); ConfigError names a bad one."""
    return load_settings()


# --- connection and data version ----------------------------------------------------------

@dataclass
class _Conn:
    db: object
    lock: threading.Lock = field(default_factory=threading.Lock)


@st.cache_resource(show_spinner=False)
def _connection(path: str) -> _Conn:
    # Not cached when open_db raises, so a database created later is picked up on the next run.
    return _Conn(store.open_db(path, read_only=True))


def _run(path: str, fn, *args, **kwargs):
    """Call a store function on the shared read-only connection; SQLite errors become StoreError."""
    conn = _connection(path)
    try:
        with conn.lock:  # one connection serves every session's thread
            return fn(conn.db, *args, **kwargs)
    except sqlite3.Error as exc:
        raise store.explain_sqlite_error(exc, path) from exc


def database_exists(path: str) -> bool:
    return Path(path).is_file()


def data_version(path: str) -> tuple:
    """Changes whenever the worker adds items, reactions, scores, rejects or moves a checkpoint."""
    return _run(path, store.data_version)


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=512, show_spinner=False)
def _cached(path: str, version: tuple, name: str, args: tuple, kwargs: tuple):
    fn = _QUERIES[name]
    return _run(path, fn, *args, **dict(kwargs))


def _query(path: str, name: str, *args, **kwargs):
    kwargs = {k: (tuple(v) if isinstance(v, list) else v) for k, v in kwargs.items()}
    result = _cached(path, data_version(path), name, args, tuple(sorted(kwargs.items())))
    return result


def _filtered(fn):
    """Store queries take `platforms` as a list; cache keys need tuples."""
    def call(db, *args, platforms=None, **kwargs):
        return fn(db, *args, platforms=list(platforms) if platforms else None, **kwargs)
    return call


_QUERIES = {
    "demo_history": demo_history_state,
    "last_alert_id": store.last_alert_id,
    "alerts_after": store.alerts_after,
    "last_escalation_id": store.last_escalation_id,
    "escalations_after": store.escalations_after,
    "last_assignment_id": store.last_assignment_id,
    "offers_after": store.offers_after,
    "last_referral_id": store.last_referral_id,
    "referrals_after": store.referrals_after,
    "summary_counts": _filtered(store.summary_counts),
    "polarity_counts": _filtered(store.polarity_counts),
    "daily_polarity": _filtered(store.daily_polarity),
    "hourly_counts": _filtered(store.hourly_counts),
    "latest_items": _filtered(store.latest_items),
    "top_rumours": _filtered(store.top_rumours),
    "get_item": store.get_item,
    "item_reactions": store.item_reactions,
    "score_history": store.score_history,
    "cluster_items": store.cluster_items,
    "cluster_size": store.cluster_size,
    "platforms": store.platforms,
    "earliest_published": store.earliest_published,
    "time_bounds": store.time_bounds,
    "list_rejects": store.list_rejects,
    "count_rejects": store.count_rejects,
    "count_items": store.count_items,
    "list_model_versions": store.list_model_versions,
    "search": item_search.run,
    "unread": readings.waiting,
}


# --- filters and periods ------------------------------------------------------------------

@dataclass(frozen=True)
class Filters:
    """What the sidebar selects; `store_kwargs()` are the store's filter arguments."""

    period: str = "today"
    custom: tuple[date, date] | None = None
    platforms: tuple[str, ...] = ()
    min_probability: float = 0.0
    health_only: bool = False

    def store_kwargs(self) -> dict:
        return {"platforms": self.platforms or None, "health_only": self.health_only,
                "min_probability": self.min_probability or None}


def china_today(now: datetime | None = None) -> date:
    return (now or now_utc()).astimezone(CST).date()


# The live page's filters in its address: period (f_period), custom days (f_custom), platforms
# (f_platforms, one parameter each), rumour probability floor (f_min_prob), health only (f_health).
FILTER_PARAMS = ("range", "from", "to", "platform", "min", "health")


def address_filters(query) -> dict[str, list[str]]:
    """The live page's filter parameters in an address (`query` is st.query_params)."""
    return {p: query.get_all(p) for p in FILTER_PARAMS if query.get_all(p)}


def filters_from_query(address: dict[str, list[str]], defaults: dict) -> tuple[dict | None, list[str]]:
    """The live page's filters an address asks for (its `address_filters`), as {session key: value}
    (the defaults for what it leaves out), or None when it names no filter; and the parameters it
    got wrong ("min=abc"), which are left at their defaults."""
    if not address:
        return None, []
    wanted, bad = dict(defaults), []

    def last(param: str) -> str:
        return address[param][-1].strip()

    if "range" in address:
        if last("range") in PERIODS:
            wanted["f_period"] = last("range")
        else:
            bad.append(f"range={last('range')}")
    if "from" in address or "to" in address:
        try:
            first, final = (date.fromisoformat(last(p)) for p in ("from", "to"))
        except (KeyError, ValueError):  # one of the two days missing, or not a date
            bad.append("&".join(f"{p}={','.join(address.get(p, []))}" for p in ("from", "to")))
        else:
            wanted["f_custom"] = tuple(sorted((first, final)))
    if "platform" in address:
        wanted["f_platforms"] = list(dict.fromkeys(v.strip() for v in address["platform"] if v.strip()))
    if "min" in address:
        try:
            value = float(last("min"))
        except ValueError:
            value = float("nan")
        if 0.0 <= value <= 1.0:
            wanted["f_min_prob"] = round(value * 20) / 20  # the slider's steps of 0.05
        else:
            bad.append(f"min={last('min')}")
    if "health" in address:
        if last("health") in ("1", "0"):
            wanted["f_health"] = last("health") == "1"
        else:
            bad.append(f"health={last('health')}")
    return wanted, bad


def filters_query(filters: dict, defaults: dict) -> dict[str, list[str]]:
    """The address parameters of the live page's filters ({session key: value}): those that differ
    from their defaults; the custom period's days only while it is the period chosen."""
    out: dict[str, list[str]] = {}
    period = filters["f_period"]
    if period != defaults["f_period"]:
        out["range"] = [period]
    custom = filters.get("f_custom") or ()
    custom = [d for d in (custom if isinstance(custom, (tuple, list)) else [custom]) if d]
    if period == "custom" and len(custom) == 2:
        out["from"], out["to"] = [custom[0].isoformat()], [custom[-1].isoformat()]
    if filters["f_platforms"]:
        out["platform"] = list(filters["f_platforms"])
    if filters["f_min_prob"] != defaults["f_min_prob"]:
        out["min"] = [f"{filters['f_min_prob']:g}"]
    if filters["f_health"] != defaults["f_health"]:
        out["health"] = ["1" if filters["f_health"] else "0"]
    return out


def filters_to_query(query, filters: dict, defaults: dict) -> None:
    """Put the filters that differ from their defaults into the address and take the others out
    (`query` is st.query_params; a parameter is only written when it changes)."""
    wanted = filters_query(filters, defaults)
    for param in FILTER_PARAMS:
        if param in wanted:
            if query.get_all(param) != wanted[param]:
                query[param] = wanted[param]
        elif query.get_all(param):
            del query[param]


def period_bounds(period: str, custom: tuple[date, date] | None = None,
                  now: datetime | None = None) -> tuple[str | None, str | None]:
    """UTC ISO [start, end) of a China-time period; (None, None) for all time."""
    now = now or now_utc()
    if period == "all":
        return None, None
    if period == "custom":
        if not custom:
            raise ValueError("a custom period needs a start and an end date")
        first, last = sorted(custom)
        return store.day_range(first, (last - first).days + 1)
    if period not in PERIOD_DAYS:
        raise ValueError(f"unknown period {period!r}; expected one of {', '.join(PERIODS)}")
    days = PERIOD_DAYS[period]
    return store.day_range(now - timedelta(days=days - 1), days)


# --- live monitor -------------------------------------------------------------------------

def demo_history(path: str) -> dict | None:
    """The simulated weeks a demo database was given (rumourwatch.demo_history), else None."""
    return _query(path, "demo_history") if database_exists(path) else None


def platforms(path: str) -> list[str]:
    return _query(path, "platforms")


def count_items(path: str) -> int:
    return _query(path, "count_items")


def last_alert_id(path: str) -> int:
    return _query(path, "last_alert_id")


def alerts_after(path: str, after_id: int) -> list[dict]:
    """The alerts raised since alert `after_id`, oldest first (at most 50: a notice, not the list)."""
    return _query(path, "alerts_after", after_id)


def last_escalation_id(path: str) -> int:
    return _query(path, "last_escalation_id")


def last_assignment_id(path: str) -> int:
    return _query(path, "last_assignment_id")


def offers_after(path: str, expert_id: int, after_id: int) -> list[dict]:
    """The tasks offered to an expert since task `after_id`, still unanswered, oldest first."""
    return _query(path, "offers_after", expert_id, after_id)


def last_referral_id(path: str) -> int:
    return _query(path, "last_referral_id")


def referrals_after(path: str, unit_id: int, after_id: int) -> list[dict]:
    """The alerts referred to a unit since referral `after_id`, still unanswered, oldest first."""
    return _query(path, "referrals_after", unit_id, after_id)


def escalations_after(path: str, after_id: int) -> list[dict]:
    """The clocks run out since escalation step `after_id`, oldest first (at most 50)."""
    return _query(path, "escalations_after", after_id)


def today_summary(path: str, threshold: float, platform_filter: tuple[str, ...] = (),
                  now: datetime | None = None) -> dict:
    """Counts for the China-time day of `now`, plus items published in the last hour."""
    now = now or now_utc()
    start, end = store.day_range(now, 1)
    counts = _query(path, "summary_counts", start, end, threshold, platforms=platform_filter or None)
    hour = _query(path, "summary_counts", iso(now - timedelta(hours=1)), None, threshold,
                  platforms=platform_filter or None)
    return dict(counts, last_hour=hour["items"], day=china_today(now).isoformat())


def watched_today(path: str, threshold: float, platform_filter: tuple[str, ...] = (),
                  now: datetime | None = None) -> list[dict]:
    """Every watched keyword and account of the alert rules with its items published today (China
    day) and how many are flagged, as 条目检索 finds them, and its items per Beijing hour so far
    (`hours`, from 00:00 to the current hour; `this_hour` the last of them): [{kind, value, items,
    flagged, hours, this_hour}], keywords first; [] when nothing is watched. ConfigError when the
    rules cannot be read."""
    watch = workflow_rules()["watch"]
    if not (watch["keywords"] or watch["accounts"]):
        return []
    now = now or now_utc()
    start, end = store.day_range(now, 1)
    lines = _watched_hits(path, iso(now.replace(second=0, microsecond=0)), tuple(watch["keywords"]),
                          tuple(watch["accounts"]), start, end, threshold, tuple(platform_filter))
    so_far = now.astimezone(CST).hour + 1
    out = []
    for line in lines:
        hours = [0] * so_far
        for row in line["days"]:  # UTC hours, YYYY-MM-DDTHH
            hour = parse_time(row["day"] + ":00:00Z").astimezone(CST).hour
            if hour < so_far:  # (an item dated later today by its source is counted in the day only)
                hours[hour] += row["n"]
        out.append({"kind": line["kind"], "value": line["value"], "items": sum(d["n"] for d in line["days"]),
                    "flagged": sum(d["flagged"] for d in line["days"]), "hours": hours, "this_hour": hours[-1]})
    return out


def opinion(path: str, filters: Filters, now: datetime | None = None) -> dict:
    """The report line for the filtered period, its shares and the unscored count."""
    start, end = period_bounds(filters.period, filters.custom, now)
    counts = _query(path, "polarity_counts", start, end, **filters.store_kwargs())
    unscored = counts.get(None, 0)
    if filters.health_only:  # an item not scored yet is not known to be about health: still say it waits
        unscored = _query(path, "polarity_counts", start, end,
                          **dict(filters.store_kwargs(), health_only=False)).get(None, 0)
    return {"line": opinion_line(counts), "shares": opinion_shares(counts), "unscored": unscored, "counts": counts}


def unread(path: str, filters: Filters, now: datetime | None = None) -> dict:
    """Of the filtered period and platforms, the items the models cannot read still waiting for a
    reader, by script ({language: n}; rumourwatch.readings)."""
    start, end = period_bounds(filters.period, filters.custom, now)
    return _query(path, "unread", start, end, platforms=list(filters.platforms) or None)


def daily_shares(path: str, filters: Filters, now: datetime | None = None) -> list[dict]:
    """Per China day: each polarity's count and share (percent of the day's scored items)."""
    start, end = period_bounds(filters.period, filters.custom, now)
    rows = _query(path, "daily_polarity", start, end, **filters.store_kwargs())
    by_day: dict[str, dict] = {}
    for r in rows:
        if r["polarity"] in ("positive", "neutral", "negative"):
            by_day.setdefault(r["day"], {"positive": 0, "neutral": 0, "negative": 0})[r["polarity"]] += r["n"]
    out = []
    for day, counts in sorted(by_day.items()):
        for share in opinion_shares(counts):
            out.append({"day": day, "polarity": share.polarity, "n": share.count, "share": float(share.percent)})
    return out


def hourly(path: str, filters: Filters, now: datetime | None = None) -> list[dict]:
    """Items and flagged items for each of the last 24 hours (empty hours included), China time."""
    now = now or now_utc()
    first = (now - timedelta(hours=23)).replace(minute=0, second=0, microsecond=0)
    rows = _query(path, "hourly_counts", iso(first), None, **filters.store_kwargs())
    by_hour = {r["hour"]: r for r in rows}
    out = []
    for h in range(24):
        slot = first + timedelta(hours=h)
        r = by_hour.get(iso(slot)[:13], {})
        out.append({"hour": slot.astimezone(CST).strftime("%H:00"), "start": to_china(slot),
                    "n": r.get("n", 0), "flagged": r.get("flagged") or 0})
    return out


def latest(path: str, filters: Filters, limit: int = FEED_LIMIT, now: datetime | None = None) -> list[dict]:
    start, end = period_bounds(filters.period, filters.custom, now)
    return _query(path, "latest_items", start, end, limit, **filters.store_kwargs())


def top_rumours(path: str, filters: Filters, threshold: float, limit: int = TOP_LIMIT,
                now: datetime | None = None) -> list[dict]:
    """Flagged items (probability at or above `threshold`, or the filter's floor if higher), one per cluster."""
    start, end = period_bounds(filters.period, filters.custom, now)
    kwargs = dict(filters.store_kwargs(), min_probability=max(filters.min_probability, threshold))
    return _query(path, "top_rumours", start, end, limit, **kwargs)


# --- keyword search -----------------------------------------------------------------------

def search(path: str, query: item_search.Query, filters: Filters, threshold: float, order: str,
           account: str | None = None, now: datetime | None = None, topic: str | None = None) -> dict:
    """rumourwatch.search.run over the filtered period (cached under the data version)."""
    start, end = period_bounds(filters.period, filters.custom, now)
    return _query(path, "search", query, start, end, threshold, platforms=filters.platforms,
                  health_only=filters.health_only, account=account, order=order, topic=topic)


def search_csv(path: str, query: item_search.Query, filters: Filters, threshold: float,
               account: str | None = None, now: datetime | None = None, topic: str | None = None) -> bytes:
    """The matching items as CSV (rumourwatch.search.export_csv), made when the user downloads it."""
    start, end = period_bounds(filters.period, filters.custom, now)
    text, _ = _run(path, item_search.export_csv, query, start, end, threshold, platforms=filters.platforms,
                   health_only=filters.health_only, account=account, topic=topic)
    return text.encode("utf-8")


# --- item view ----------------------------------------------------------------------------

def item(path: str, item_id: int) -> dict | None:
    return _query(path, "get_item", item_id)


def reactions(path: str, item_id: int) -> list[dict]:
    return _query(path, "item_reactions", item_id)


def _clarification(db, item_id: int):
    from rumourwatch.experts import item_clarification

    return item_clarification(db, item_id)


def item_clarification(path: str, item_id: int) -> dict | None:
    """The published expert clarification covering the item or its cluster. Read fresh, not cached:
    a publication must show at once, and the lookup is two indexed queries."""
    return _run(path, _clarification, item_id)


def item_verdict(path: str, item_id: int) -> dict | None:
    """The latest verdict given on the item or its cluster (store.verdicts_for_item), None without
    one. Read fresh, not cached: a verdict must show as soon as it is saved."""
    found = _run(path, store.verdicts_for_item, item_id)
    return found[0] if found else None


def score_history(path: str, item_id: int) -> list[dict]:
    return _query(path, "score_history", item_id)


COPIES_SHOWN = 200  # copies listed on the item page; a viral claim can have thousands


def cluster_copies(path: str, item_id: int, cluster_id: int | None) -> tuple[list[dict], int]:
    """The other items of the item's cluster, earliest first (at most COPIES_SHOWN), and how many
    other items the cluster holds in all."""
    if cluster_id is None:
        return [], 0
    copies = _query(path, "cluster_items", cluster_id, COPIES_SHOWN, item_id)
    return copies, max(_query(path, "cluster_size", cluster_id) - 1, len(copies))


def quality_flags(row: dict) -> list[str]:
    """The item's quality flags (missing_author, missing_time, ...), tolerant of a bad column."""
    raw = row.get("quality_flags")
    if not raw:
        return []
    try:
        flags = json.loads(raw)
    except ValueError:
        return [str(raw)]
    return [str(f) for f in flags] if isinstance(flags, list) else [str(flags)]


def cumulative_reactions(rows: list[dict], start: str | None = None) -> list[dict]:
    """Running count of reposts and comments by time (China time), for the reactions chart.

    With `start` (the item's publication time) each kind starts from zero there, so the chart
    shows how fast reactions came after the post.
    """
    totals = {"repost": 0, "comment": 0}
    out = [{"time": to_china(start), "kind": k, "cumulative": 0} for k in totals] if start else []
    for r in sorted((r for r in rows if r.get("at")), key=lambda r: r["at"]):
        if r["kind"] not in totals:
            continue
        totals[r["kind"]] += 1
        out.append({"time": to_china(r["at"]), "kind": r["kind"], "cumulative": totals[r["kind"]]})
    return out


# --- models (explanation and debunk matches) ----------------------------------------------

class ModelsUnavailable(RumourwatchError):
    """The model bundle is not trained yet, or lacks a function the page needs."""


@st.cache_resource(ttl=3600, max_entries=1, show_spinner=False)
def _bundle(models_dir: str, stamp):
    from rumourwatch.nlp.bundle import (
        ModelBundle,  # imported late: the bundle is optional here
    )

    return ModelBundle.load(models_dir)


def model_bundle(models_dir: str):
    """The trained bundle, or ModelsUnavailable saying why not (not cached, so training is picked up;
    keyed by the manifest file, so models put in use on the 模型与评估 page replace it at once)."""
    try:
        from rumourwatch.nlp.bundle import manifest_stamp

        return _bundle(models_dir, manifest_stamp(models_dir))
    except ImportError as exc:
        raise ModelsUnavailable(f"model code not installed: {exc}") from exc
    except (RumourwatchError, OSError, ValueError, AttributeError) as exc:
        raise ModelsUnavailable(str(exc) or type(exc).__name__) from exc


def _doc(path: str, item_id: int):
    """The item as the scorer reads it (all its reactions, the text cut to max_text_chars): an
    explanation of another Doc would not add up to the item's score."""
    from rumourwatch.score import scoring_doc

    doc = _run(path, scoring_doc, item_id, settings().max_text_chars)
    if doc is None:
        raise StoreError(f"item {item_id} not found", "no_item", id=item_id)
    return doc


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=256, show_spinner=False)
def _explain(path: str, version: tuple, models_dir: str, item_id: int) -> dict:
    bundle = model_bundle(models_dir)
    if not hasattr(bundle, "explain"):
        raise ModelsUnavailable("explain")
    return bundle.explain(_doc(path, item_id))


def explanation(path: str, models_dir: str, item_id: int) -> list[dict]:
    """Words/reactions that pushed the rumour score up, as rows {term, kind, weight}, largest first."""
    return explanation_rows(_explain(path, data_version(path), models_dir, item_id))


def explanation_probability(path: str, models_dir: str, item_id: int) -> float | None:
    """The rumour probability the explanation's weights add up to (the item as it stands now,
    scored by the models loaded now), when the bundle gives it."""
    value = _explain(path, data_version(path), models_dir, item_id)
    value = value.get("rumour_probability") if isinstance(value, dict) else None
    return float(value) if isinstance(value, (int, float)) else None


def explanation_rows(result) -> list[dict]:
    """Flatten what `bundle.explain` returns into rows, whatever its exact shape.

    Accepts {"words": [(term, weight), ...], "reactions": [...]}, lists of {"term"/"word"/"text",
    "weight"/"score"/"contribution"} dicts, or a plain {term: weight} mapping.
    """
    rows: list[dict] = []

    def add(kind: str, entries) -> None:
        if isinstance(entries, dict):
            entries = list(entries.items())
        if not isinstance(entries, (list, tuple)):
            return
        for e in entries:
            if isinstance(e, dict):
                term = e.get("term") or e.get("word") or e.get("text") or e.get("feature")
                weight = next((e[k] for k in ("weight", "score", "contribution", "value") if k in e), None)
            elif isinstance(e, (list, tuple)) and len(e) >= 2:
                term, weight = e[0], e[1]
            else:
                continue
            try:
                weight = float(weight)
            except (TypeError, ValueError):
                continue
            if term is not None and weight > 0:
                rows.append({"term": str(term), "kind": kind, "weight": weight})

    if isinstance(result, dict):
        nested = {k: v for k, v in result.items() if isinstance(v, (list, tuple, dict))}
        if nested:
            for key, value in nested.items():
                add(str(key), value)
        else:
            add("words", result)
    else:
        add("words", result)
    return sorted(rows, key=lambda r: -r["weight"])


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=256, show_spinner=False)
def _matches(path: str, version: tuple, models_dir: str, item_id: int, k: int) -> list[dict]:
    row = item(path, item_id)
    if row is None:
        raise StoreError(f"item {item_id} not found", "no_item", id=item_id)
    return _article_rows(models_dir, row["text"], k)


def _article_rows(models_dir: str, text: str, k: int) -> list[dict]:
    from rumourwatch.score import article_matches

    bundle = model_bundle(models_dir)
    if not hasattr(bundle, "match_debunks"):
        raise ModelsUnavailable("match_debunks")
    found = article_matches(bundle, [text], k)
    if found is None:  # the bundle has no debunk index yet
        raise ModelsUnavailable("debunk index not trained")
    return [dict(m, date=to_china(m["date"]) if m["date"] else None) for m in found[0]]


def debunk_threshold(models_dir: str) -> float | None:
    """The knowledge base's 已辟谣 threshold (calibrated on hand-checked pairs), None when the models
    or their index are not there."""
    try:
        value = getattr(getattr(model_bundle(models_dir), "debunks", None), "threshold", None)
    except ModelsUnavailable:
        return None
    return float(value) if isinstance(value, (int, float)) else None


def _store_matches(db, models_dir: str, text: str, k: int) -> tuple[list[dict], list[dict]]:
    """The clarifications published here and the debunk platforms' posts closest to `text`, dates
    in China time (read fresh: a publication shows at once)."""
    from rumourwatch.score import feed_matches, own_matches

    bundle, at = model_bundle(models_dir), iso(now_utc())
    return tuple([dict(m, date=to_china(m["date"])) for m in found(db, bundle, [text], at, k)[0]]
                 for found in (own_matches, feed_matches))


def faint_match(match: dict) -> bool:
    """A match too weak to be about the same claim (knowledge.FAINT_SIMILARITY): the item view
    folds it away, the experts' workbench leaves it out. One marked 已辟谣 never is."""
    return not match.get("already_debunked") and (match.get("score") or 0.0) < FAINT_SIMILARITY


def debunk_matches(path: str, models_dir: str, item_id: int, k: int = 5) -> list[dict]:
    """The closest published clarifications: the articles of the knowledge base and the
    clarifications published here (`own`, read fresh: a publication shows at once), each with
    title, url, platform, date (China time), score and already_debunked. A clarification published
    here that the item repeats comes first (it is the one to cite, as the scorer records), then
    the rest by similarity."""
    from rumourwatch.score import merge_matches

    articles = _matches(path, data_version(path), models_dir, item_id, k)
    row = item(path, item_id)
    own, feed = _run(path, _store_matches, models_dir, row["text"], k + 1) if row else ([], [])
    return merge_matches(own, articles + [m for m in feed if m["item_id"] != item_id], k)


def text_matches(path: str, models_dir: str, text: str, k: int = 10) -> list[dict]:
    """debunk_matches for a claim or post typed in (辟谣知识库; score.closest_clarifications, as
    `rumourwatch debunks find` lists them), read fresh (one text against the index takes
    milliseconds); without a database, the knowledge base's articles alone."""
    from rumourwatch.errors import ModelError
    from rumourwatch.score import closest_clarifications

    bundle = model_bundle(models_dir)
    if not hasattr(bundle, "match_debunks"):
        raise ModelsUnavailable("match_debunks")

    def lookup(db):
        return closest_clarifications(db, bundle, text, iso(now_utc()), k)

    try:
        found = _run(path, lookup) if database_exists(path) else lookup(store.open_db(memory=True))
    except ModelError as exc:  # the bundle has no debunk index yet
        raise ModelsUnavailable("debunk index not trained") from exc
    return [dict(m, date=to_china(m["date"]) if m["date"] else None) for m in found]


# --- sources and rejects ------------------------------------------------------------------

def source_status(path: str) -> list[dict]:
    """Each source's checkpoint row, read fresh every time (one row a source): when the worker last
    read a source is not part of data_version, so a cached copy would make a running worker with
    nothing new to read look stopped."""
    return _run(path, store.source_status)


def source_health(path: str, now: datetime | None = None) -> list[tuple[dict, dict]]:
    """(row, worker.source_health) for each source, judged against the source_quiet_hours setting."""
    from rumourwatch.worker import source_health as judge

    now = now or now_utc()
    quiet = settings().source_quiet_hours
    return [(row, judge(row, now, quiet)) for row in source_status(path)]


def rejects(path: str, limit: int = 200) -> list[dict]:
    return _query(path, "list_rejects", limit)


def count_rejects(path: str) -> int:
    return _query(path, "count_rejects")


def last_retention_run(path: str) -> dict | None:
    """The latest `rumourwatch retention --apply` (its audit entry, details read), or None."""
    rows = _run(path, store.audit_entries, limit=1, actions=["retention.apply"])
    return dict(rows[0], details=json.loads(rows[0]["details"] or "{}")) if rows else None


# --- models and their evaluation (the analysts' page) -----------------------------------------

def _table_version(db, table: str) -> tuple:
    """Changes whenever rows are added to or removed from an append-mostly table (verdicts, labels),
    which `data_version` does not watch."""
    return tuple(db.execute(f"SELECT max(id), count(*) FROM {table}").fetchone())


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=64, show_spinner=False)
def _verdict_check(path: str, version: tuple) -> dict:
    from rumourwatch.evaluation import verdict_check as check

    return check(_run(path, store.verdict_scores))


def verdict_check(path: str) -> dict | None:
    """How the live flags agreed with the recorded verdicts (`rumourwatch.evaluation.verdict_check`);
    None when the store has no verdicts table (a store the workflow has not been set up in)."""
    if not _run(path, store.has_tables, "verdicts"):
        return None
    return _verdict_check(path, (data_version(path), _run(path, _table_version, "verdicts")))


@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=64, show_spinner=False)
def _training_labels(path: str, version: tuple) -> tuple[int, int]:
    from rumourwatch.evaluation import VERDICT_LABELS

    labels = [VERDICT_LABELS[r["verdict"]] for r in _run(path, store.verdict_labels) if r["verdict"] in VERDICT_LABELS]
    return len(labels), sum(labels)


def training_labels(path: str) -> tuple[int, int]:
    """(items, rumours) the verdicts label for retraining, read as training reads them
    (store.verdict_labels: a verdict on one copy labels its cluster); (0, 0) without verdicts."""
    if not _run(path, store.has_tables, "verdicts"):
        return 0, 0
    return _training_labels(path, (data_version(path), _run(path, _table_version, "verdicts")))


def model_versions(path: str) -> list[dict]:
    """Model versions the worker has scored with, newest first, manifests parsed."""
    out = []
    for row in _query(path, "list_model_versions"):
        try:
            manifest = json.loads(row.get("manifest") or "{}")
        except ValueError:
            manifest = {}
        out.append(dict(row, manifest=manifest if isinstance(manifest, dict) else {}))
    return out


class FileUnreadable(RumourwatchError):
    """A model or evaluation file is there but cannot be read as what it should be."""


def read_json_file(path: str | Path) -> dict | None:
    """A JSON object from a file (the bundle manifest, the evaluation results), None when the file
    is not there; FileUnreadable saying what is wrong when it is unreadable or not an object."""
    path = Path(path)
    if not path.is_file():
        return None
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FileUnreadable(f"{path}: unreadable ({exc})", "file_unreadable", path=str(path)) from exc
    if not isinstance(value, dict):
        raise FileUnreadable(f"{path}: expected a JSON object, got {type(value).__name__}", "file_unreadable",
                             path=str(path))
    return value


def audit_model_action(path: str, actor: str, action: str, details: dict) -> None:
    """Record a model action (retraining started, models put in use or restored) in the audit log."""
    def record(db):
        with store.transaction(db):
            store.record_audit(db, actor, action, "model", details.get("version"), details)
    workflow(path, record)


# --- hand labels (the analysts' 数据标注 page) ------------------------------------------------

@st.cache_data(ttl=CACHE_TTL_SECONDS, max_entries=16, show_spinner=False)
def _labels(path: str, version: tuple) -> list[dict]:
    return _run(path, store.latest_labels)


def labels(path: str) -> list[dict] | None:
    """Each labelled item's latest label; None when the store has no labels table yet (the worker
    creates it when it next starts)."""
    if not _run(path, store.has_tables, "labels"):
        return None
    return _labels(path, _run(path, _table_version, "labels"))


def label_queue(path: str, sample: str, skip: tuple[int, ...] = (), only: int | None = None) -> dict | None:
    """The next item to label by `sample`, or item `only` while it is still unlabelled (not cached:
    it changes with every label)."""
    rows = _run(path, store.label_queue, sample, 1, skip, only)
    return rows[0] if rows else None


# --- formatting helpers (pure) ------------------------------------------------------------

def to_china(value, fmt: str = "%Y-%m-%d %H:%M") -> str | None:
    """A stored UTC time (ISO text or datetime) as China time, `YYYY-MM-DD HH:MM` by default."""
    return beijing(value, fmt)


def safe_url(url) -> str | None:
    """The url when it is a plain http(s) address, else None (scraped links may be javascript:)."""
    if not isinstance(url, str):
        return None
    text = url.strip()
    lower = text.lower()
    if lower.startswith(("http://", "https://")) and not any(c in text for c in "\n\r\t <>\"'"):
        return text
    return None


def parse_item_id(value) -> int | None:
    """A positive item id from a query parameter, else None."""
    if value is None:
        return None
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        n = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return n if n > 0 else None


# --- response workflow (alerts, experts, clarifications) ----------------------------------
# Workflow pages write (assign, accept, publish …), so they use a read-write connection, and
# they read fresh each run: the workflow tables are small and a stale cache would hide an action.

def draft_vocabulary():
    """The data bundle's medical vocabulary for 稿件自查 (draftcheck: read once per process), None
    when the bundle's lexicon cannot be read."""
    from rumourwatch.draftcheck import bundle_vocabulary
    return bundle_vocabulary(settings().data_dir)


@st.cache_resource(show_spinner=False)
def _workflow_connection(path: str) -> _Conn:
    return _Conn(store.open_db(path))


def workflow(path: str, fn, *args, **kwargs):
    """Call a workflow function (rumourwatch.alerts / experts / store) with the read-write connection."""
    conn = _workflow_connection(path)
    try:
        with conn.lock:
            return fn(conn.db, *args, **kwargs)
    except sqlite3.Error as exc:
        raise store.explain_sqlite_error(exc, path) from exc


def workflow_rules() -> dict:
    """The alert rules file, validated (ConfigError names a bad key)."""
    from rumourwatch.alerts import load_rules

    return load_rules()


def time_left_label(deadline: str | None, done_at: str | None, now: datetime | None = None,
                    status: str | None = None) -> str:
    """'剩余 3 小时 12 分', '已超时 …', '已于 … 完成', '不要求' for a deadline, or '已排除，不再计时'
    when the alert's `status` is no longer open (its clock stopped with it)."""
    from dashboard.strings import t
    from rumourwatch.store import WORKFLOW_OPEN_STATUSES

    if not deadline:
        return t("wf.not_required")
    if done_at:
        return t("wf.done_at", time=to_china(done_at))
    if status is not None and status not in WORKFLOW_OPEN_STATUSES:
        return t("wf.stopped", status=t(f"alert.status.{status}"))
    seconds = int((parse_time(deadline) - (now or now_utc())).total_seconds())
    h, m = divmod(abs(seconds) // 60, 60)
    return t("wf.left", h=h, m=m) if seconds > 0 else t("wf.overdue_by", h=h, m=m)


def alerts_by_urgency(rows: list[dict]) -> list[dict]:
    """Alert views (`alerts.alert_view`) in the order a monitor acts on them: open alerts first, the
    longest overdue at the top, then the least time left on a clock still running, then open ones
    with no clock running; closed alerts (published, dismissed) last. Ties keep the given order
    (newest first)."""
    def key(row: dict) -> tuple:
        if row["status"] not in store.WORKFLOW_OPEN_STATUSES:
            return (1, 0)
        left = [s for s in (row["respond_seconds_left"], row["conference_seconds_left"]) if s is not None]
        return (0, min(left) if left else float("inf"))

    return sorted(rows, key=key)


# --- reports (日报 / 周报 / 月通报 / 季度 / 年度) ---------------------------------------------------------------------
# The page shows the very Report the CLI renders to PDF: computed once per (period, filters, minute)
# and cached for a minute, since workflow changes do not move `data_version`.

REPORT_TTL_SECONDS = 60


@st.cache_data(ttl=REPORT_TTL_SECONDS, max_entries=64, show_spinner=False)
def _report(path: str, version: tuple, kind: str, label: str, region: str | None, platform: str | None,
            threshold: float, minimum: int | None, now_minute: str, quiet_hours: float) -> dict:
    from rumourwatch import reports

    now = parse_time(now_minute)
    kwargs = {"region": region, "platform": platform, "threshold": threshold, "now": now, "quiet_hours": quiet_hours}
    if kind in reports.LONG_KINDS and minimum is not None:
        kwargs["minimum"] = minimum
    return _run(path, lambda db: reports.compute(kind, db, label, **kwargs)).to_dict()


def report(path: str, kind: str, label: str, region: str | None = None, platform: str | None = None,
           threshold: float = 0.5, minimum: int | None = None, now: datetime | None = None):
    """The computed report of `kind` for the period `label` (a `rumourwatch.reports.Report`)."""
    from rumourwatch import reports

    now_minute = iso((now or now_utc()).replace(second=0, microsecond=0))
    d = _report(path, data_version(path), kind, label, region or None, platform or None, threshold, minimum,
                now_minute, settings().source_quiet_hours)
    return reports.Report.from_dict(d)


@st.cache_data(ttl=REPORT_TTL_SECONDS, max_entries=16, show_spinner=False)
def _risk_points(path: str, version: tuple, start: str, end: str, threshold: float) -> dict:
    from rumourwatch import risk

    return _run(path, lambda db: risk.risk_points(db, start, end, threshold))


def risk_points(path: str, start: str, end: str, threshold: float) -> dict:
    """The period's risk points (rumourwatch.risk); alerts and verdicts move them too, so cached for
    a minute like the reports, besides the data version."""
    return _risk_points(path, data_version(path), start, end, threshold)


@st.cache_data(ttl=REPORT_TTL_SECONDS, max_entries=16, show_spinner=False)
def _health_days(path: str, version: tuple, local: tuple, today: date, threshold: float, passed_days: int) -> dict:
    from rumourwatch import healthdays

    return _run(path, lambda db: {
        "ahead": healthdays.upcoming(db, today, threshold),
        "passed": healthdays.held_between(db, today - timedelta(days=passed_days), today - timedelta(days=1),
                                          threshold, until=today - timedelta(days=1))})


def health_days(path: str, today: date, threshold: float, passed_days: int) -> dict:
    """The 宣传节点 tab's figures (rumourwatch.healthdays): "ahead", the days of the next weeks, and
    "passed", those begun in the last `passed_days`. Cached like the risk points, and read anew when
    the office's own days change."""
    from rumourwatch import healthdays

    local = tuple(d.id for d in _run(path, healthdays.local_days))
    return _health_days(path, data_version(path), local, today, threshold, passed_days)


@st.cache_data(ttl=REPORT_TTL_SECONDS, max_entries=16, show_spinner=False)
def _own_media(path: str, version: tuple, channels: tuple, start: str, end: str, previous_start: str,
               threshold: float) -> dict:
    from rumourwatch import ownmedia

    return _run(path, lambda db: ownmedia.figures(db, start, end, threshold, previous_start=previous_start))


def own_media(path: str, start: str, end: str, previous_start: str, threshold: float) -> dict:
    """The 政务新媒体 page's figures (rumourwatch.ownmedia.figures). Cached like the risk points, and
    read anew when a channel is registered or removed."""
    channels = tuple(a["id"] for a in _run(path, store.list_own_accounts))
    return _own_media(path, data_version(path), channels, start, end, previous_start, threshold)


@st.cache_data(ttl=REPORT_TTL_SECONDS, max_entries=16, show_spinner=False)
def assessment_aftermaths(path: str, ids: tuple[int, ...], today: date, threshold: float) -> dict[int, dict]:
    """What followed each kept assessment's day (rumourwatch.assessment.aftermath), by id: full days
    before `today` only, so the figures hold for the day (an assessment is never changed)."""
    from rumourwatch import assessment

    def read(db):
        rows = [store.get_assessment(db, i) for i in ids]
        return {r["id"]: assessment.aftermath(db, r, today, threshold) for r in rows if r}

    return _run(path, read)


@st.cache_data(ttl=REPORT_TTL_SECONDS, max_entries=16, show_spinner=False)
def _watched_hits(path: str, now_minute: str, keywords: tuple[str, ...], accounts: tuple[str, ...], start: str,
                  end: str, threshold: float, platforms: tuple[str, ...]) -> list[dict]:
    """The watched lines' hourly hits, computed at most once a minute (keyed by the minute, not the
    data version): the count reads the texts of the whole day so far, 0.6 s for the demo's 86,000
    items of a day, and the worker changes the data version every few seconds, so keyed by it the
    live page read them again on every refresh (most of the dashboard's CPU for one monitor
    watching). A watched line's alerts come from the worker, not from this count."""
    return _run(path, item_search.watched_hits, keywords, accounts, start, end, threshold,
                platforms=list(platforms) or None, by_hour=True)


@st.cache_data(ttl=REPORT_TTL_SECONDS, max_entries=16, show_spinner=False)
def _tag_stats(path: str, now_minute: str, threshold: float, platforms: tuple[str, ...]) -> dict[str, dict]:
    from rumourwatch import trending

    return _run(path, lambda db: trending.tag_stats(db, parse_time(now_minute), threshold,
                                                    platforms=list(platforms) or None))


def tag_stats(path: str, threshold: float, platforms: tuple[str, ...] = (), now: datetime | None = None) -> dict:
    """Every health hashtag of the last hours with its figures (rumourwatch.trending.tag_stats),
    computed at most once a minute: reading a few hours of texts on every refresh of the live page,
    or for every item opened, would cost more than it tells."""
    now_minute = iso((now or now_utc()).replace(second=0, microsecond=0))
    return _tag_stats(path, now_minute, threshold, tuple(platforms))


def earliest_published(path: str) -> str | None:
    """When the store's first item was published (ISO), None for an empty store."""
    return _query(path, "earliest_published")


def rising_tags(path: str, threshold: float, platforms: tuple[str, ...] = (), now: datetime | None = None) -> list[dict]:
    """The health hashtags taking off in the last hours, new and rising ones first (the live page)."""
    from rumourwatch import trending

    return trending.topics_of(tag_stats(path, threshold, platforms, now))


@st.cache_data(ttl=REPORT_TTL_SECONDS, max_entries=32, show_spinner=False)
def report_file(report_json: str, fmt: str) -> bytes:
    """The report rendered as html / md / docx / pdf bytes (PDF through headless Chromium, a few seconds)."""
    from rumourwatch import reports

    rep = reports.Report.from_json(report_json)
    return reports.document_bytes(lambda f, out: reports.render(rep, f, out), fmt)


@st.cache_data(ttl=REPORT_TTL_SECONDS, max_entries=32, show_spinner=False)
def report_chart(report_json: str, which: str) -> bytes | None:
    """The same PNG charts the HTML and PDF embed."""
    from rumourwatch import reports

    rep = reports.Report.from_json(report_json)
    return reports.daily_chart_png(rep) if which == "daily" else reports.units_chart_png(rep)


@st.cache_data(ttl=REPORT_TTL_SECONDS, max_entries=8, show_spinner=False)
def _weekly_trend(path: str, version, now_minute: str, threshold: float) -> list[dict]:
    from rumourwatch import overview

    return _run(path, lambda db: overview.weekly_trend(db, parse_time(now_minute), threshold=threshold))


def weekly_trend(path: str, threshold: float, now: datetime | None = None) -> list[dict]:
    """The last 12 weeks' figures for 领导概览 (rumourwatch.overview), each as its 周报 counts it;
    read again when the data changes, and at most once a minute besides (alerts and clocks move)."""
    now_minute = iso((now or now_utc()).replace(second=0, microsecond=0))
    return _weekly_trend(path, data_version(path), now_minute, threshold)
