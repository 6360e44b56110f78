"""事前舆情风险评估: what the feed says of a subject before the office acts on it.

Seed 001 (Jilin, 二、工作要求, 二要): "在出台重要政策、组织重要活动，推进重要工作中，坚持把宣传挺在前面，
同时广泛收集媒体焦点和民意倾向，做好事前舆论研判和风险评估，防患于未然". Before a policy is released, an
activity held or a piece of work pushed, a monitor or analyst describes its subject as 条目检索 does
(words, a Healthy China topic, or both) with the day it is planned for, and reads:

- what the feed said of it over the last RECENT_DAYS days and today so far: items, stories, the
  opinion line against the whole feed's negative share, and the last TREND_DAYS full days' daily
  mean against the days before them;
- the false claims already about it: the flagged stories, those not debunked yet, their alerts
  and the accounts that posted several;
- what the office has at hand: the pool's active experts of its topic (the topic given, or the one
  most of the matching items fall under) and the clarifications published here on it;
- a level (较高 / 中等 / 较低) with each reason it rests on, and the work that follows from them.

The level is a handful of rules a reader can check, not a model: each signal states the figure that
raised it. An assessment is saved as made (its JSON) and audited; once its day has passed it is read
against what followed (`aftermath`: the AFTER_DAYS days from its day against the AFTER_DAYS before).
It prints as a document (HTML, PDF, Word, Markdown) in the reports' house style.

    a = compute(db, title="门诊共济保障改革政策发布", query="医保 门诊", topic=None,
                event_day=date(2026, 12, 15), now=now, threshold=0.5)
    render(a, "docx", "事前研判.docx");  save(db, a, actor="mon", now=now)
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from . import search, store
from .alerts import WorkflowError
from .experts import LEVELS, TOPICS, expert_topics
from .ledger import ALERT_STATUS_ZH
from .opinion import opinion_line
from .records import CST, beijing, iso, parse_time
from .reports import (
    clip,
    document_bytes,
    fmt_pct,
    markdown_document,
    percent,
    short_account,
    write_document,
)

RECENT_DAYS = 30        # the full days read before today
TREND_DAYS = 7          # the last full days, against the RECENT_DAYS - TREND_DAYS before them
AFTER_DAYS = 7          # once the day has passed: its first days against as many before it
TOP_STORIES = 10        # flagged stories listed, likeliest first
LISTED_EXPERTS = 8
RECENT_CLARIFICATIONS = 5
TITLE_MAX, NOTE_MAX, REASON_MAX = 60, 2000, 200
FOCUS_ITEMS = 2000      # the newest matching items read for the words that stand out (媒体焦点, 民意关切)
FOCUS_WORDS = 10
FEW_ITEMS = 10          # fewer matching items than this: the figures say little, and the document says so

# The rules the level rests on (each signal weighs 1, or 2 when it alone makes the risk high)
OPEN_STORIES_HIGH = 3   # flagged stories not debunked yet: 1 is a signal, this many weigh 2
RISE = 1.5              # the last TREND_DAYS days' daily mean at least this times the days before …
RISE_MIN_ITEMS = 20     # … with at least this many items in them
RISE_HIGH, RISE_HIGH_MIN_ITEMS = 3.0, 100
NEGATIVE_RATIO = 2.0    # the subject's negative share at least this times the whole feed's …
NEGATIVE_MIN = 10       # … from at least this many negative items
REPEAT_ITEMS = 2        # an account with this many flagged items on the subject posts it repeatedly
HIGH_SCORE = 3          # signals weighing this much together make the risk high

LEVEL_ZH = {"high": "较高", "medium": "中等", "low": "较低"}

TEXT: dict[str, str] = {
    "title": "事前舆情风险评估",
    "subtitle": "{title}（计划于 {day}）",
    "generated": "生成时间：{time}（北京时间）；统计区间 {first} 至 {last}（今日截至生成时）。",
    "basis": "依据《2021年吉林省卫生健康宣传工作要点》：出台重要政策、组织重要活动前，广泛收集媒体焦点和民意倾向，做好事前舆论研判和风险评估。",
    "s.subject": "评估事项", "s.opinion": "舆情现状", "s.rumours": "已有的不实信息", "s.risk": "风险研判",
    "s.resources": "可用资源", "s.advice": "工作建议", "s.note": "研判意见", "s.after": "事后对照",
    "subject.title": "事项：{title}。",
    "subject.day": "计划日期：{day}（{when}）。",
    "subject.when.ahead": "{n} 天后", "subject.when.today": "今日", "subject.when.past": "已过 {n} 天",
    "subject.query": "检索条件：{what}（与条目检索相同：空格分隔的词须同时出现，A|B 为任一，-A 为排除）。",
    "subject.words": "关键词“{query}”", "subject.topic": "话题为“{topic}”", "subject.and": "，且",
    "subject.level": "风险等级：{level}。",
    "opinion.volume": "相关条目 {items} 条，涉及 {stories} 个事件，其中健康相关 {health} 条；今日截至目前 {today} 条。",
    "opinion.line": "情感倾向：{line}。",
    "opinion.negative": "负面占比 {share}，同期全部条目负面占比 {feed}。",
    "opinion.trend": "近 {recent} 天日均 {mean} 条，此前 {before} 天日均 {before_mean} 条（{change}）。",
    "opinion.trend.young": "近 {recent} 天日均 {mean} 条；平台此前尚无数据，无法判断热度变化。",
    "opinion.trend.new": "近 {recent} 天日均 {mean} 条，此前 {before} 天没有相关条目。",
    "opinion.focus": "媒体焦点（最新 {n} 条相关条目中突出的词）：{words}。",
    "opinion.focus.negative": "负面条目的关注点：{words}。",
    "opinion.few": "相关条目不足 {n} 条，以下研判依据有限，请结合人工了解的情况判断。",
    "opinion.none": "统计区间内没有相关条目：检索条件是否过窄？可在条目检索中调整后再研判。",
    "change.same": "持平",
    "rumours.line": "疑似谣言 {items} 条，涉及 {stories} 个事件：已辟谣 {debunked} 个，尚未辟谣 {open} 个。",
    "rumours.alerts": "相关预警 {n} 个，其中未办结 {open} 个（一级、二级 {serious} 个）。",
    "rumours.none": "统计区间内没有相关的疑似谣言。",
    "rumours.top": "疑似谣言事件（按谣言概率，最多 {n} 个）",
    "rumours.accounts": "多次发布相关疑似谣言的账号",
    "risk.lead": "风险等级：{level}。",
    "risk.reasons": "依据：",
    "risk.quiet": "未发现需要特别关注的信号：相关条目热度平稳，负面占比不高，没有尚未辟谣的疑似谣言。",
    "signal.open_stories": "尚未辟谣的疑似谣言事件 {n} 个（{high} 个及以上为高风险信号）",
    "signal.alerts": "未办结的相关预警 {n} 个",
    "signal.serious_alerts": "未办结的一级、二级预警 {n} 个",
    "signal.rising": "热度上升：近 {recent} 天日均为此前的 {ratio} 倍（{items} 条）",
    "signal.negative": "负面占比 {share}，为同期全部条目（{feed}）的 {ratio} 倍（负面 {n} 条）",
    "signal.accounts": "{n} 个账号多次发布相关疑似谣言",
    "resources.topic": "话题：{topic}{how}。",
    "resources.topic.given": "", "resources.topic.inferred": "（相关条目最多的话题，{n} 条）",
    "resources.topic.none": "相关条目没有话题归类，专家与澄清无法按话题匹配。",
    "resources.experts": "专家库中可约请的在库专家 {n} 位。",
    "resources.experts.none": "专家库中没有覆盖“{topic}”的在库专家。",
    "resources.clarifications": "本平台已发布该话题的澄清 {n} 篇{recent}。",
    "resources.own": "本单位政务新媒体近 {days} 天及今日发布该话题的条目 {n} 条。",
    "resources.own.none": "本单位政务新媒体近 {days} 天及今日没有发布该话题的条目。",
    "resources.clarifications.recent": "，最近的：{titles}",
    "advice.open_stories": "针对尚未辟谣的 {n} 个疑似谣言事件，提前组织{topic}专家准备辟谣口径，发布时同步释放。",
    "advice.alerts": "相关的 {n} 个未办结预警应在{day}前办结或统一口径。",
    "advice.negative": "负面情绪较集中：解读材料应正面回应公众关切，提前准备答问口径。",
    "advice.rising": "话题热度上升：建议提前发布权威信息，视情况安排新闻发布会或媒体活动。",
    "advice.accounts": "对多次发布相关疑似谣言的 {n} 个账号重点关注，必要时按规定报告其主管部门或请平台处置。",
    "advice.experts": "约请{topic}专家参与政策解读或科普（专家库中 {n} 位）。",
    "advice.no_experts": "专家库中尚无覆盖“{topic}”的在库专家，请及时补充，或约请相近领域的专家。",
    "advice.reuse": "可参考本平台已发布的同话题澄清 {n} 篇准备材料（辟谣知识库）。",
    "advice.own": "本单位政务新媒体近期没有发布“{topic}”的内容：可在{day}前先发布相关科普或政策解读，提前回应关切。",
    "advice.watch": "{day}前后将检索词设为监测关注词（条目检索 › 设为监测关注词），新出现的相关条目即时预警；{after} 天后对照本评估复盘。",
    "chart.title": "相关条目（按日，北京时间）", "chart.items": "相关条目", "chart.flagged": "疑似谣言",
    "chart.caption": "虚线右侧为近 {n} 天与今日。",
    "after.lead": "{day}起 {n} 天（{first} 至 {last}）与此前 {before} 天相比：",
    "after.items": "相关条目 {items} 条，此前 {before} 条（日均{change}）。",
    "after.flagged": "疑似谣言 {items} 条，此前 {before} 条。",
    "after.negative": "负面占比 {share}，此前 {before}。",
    "after.running": "{day}为今日，事后对照自明日起可读。",
    "after.ahead": "尚未到计划日期。",
    "cell.ahead": "未到", "cell.running": "今日进行",
    "cell.after": "条目 {items} 条（日均{change}），疑似谣言 {flagged} 条（此前 {before} 条）",
    "cell.partial": "；已过 {n} 天",
    "eve.subject": "【事前研判】明日：{title}（风险{level}）",
    "eve.line": "明日（{day}）是“{title}”的计划日期，事前研判风险{level}（{made}，{by}）。",
    "eve.reasons": "研判依据：{reasons}。",
    "eve.watched": "检索词“{query}”已设为监测关注词，新出现的相关条目会即时预警。",
    "eve.unwatched": "检索词“{query}”尚未设为监测关注词：请在“条目检索”或“舆情风险点 › 事前研判”中设置，发布后即时发现相关条目。",
    "eve.topic": "本研判按话题“{topic}”进行，请发布前后关注该话题的条目。",
    "eve.where": "研判全文见“舆情风险点”页的“事前研判”。",
    "col.first": "发布时间", "col.platform": "平台", "col.account": "账号", "col.p": "谣言概率",
    "col.items": "疑似谣言条数", "col.state": "辟谣情况", "col.alert": "预警", "col.content": "内容",
    "col.flagged": "疑似谣言条目", "col.name": "姓名", "col.level": "级别", "col.institution": "单位",
    "state.debunked": "已辟谣", "state.open": "尚未辟谣", "none": "—",
    "footer": "本评估由健康谣言监测平台根据数据库记录自动生成，研判依据各项均可在平台中复核；风险等级为规则研判，供决策参考。",
}


def tr(key: str, **kwargs) -> str:
    return TEXT[key].format(**kwargs) if kwargs else TEXT[key]


class AssessmentError(WorkflowError):
    """An assessment that cannot be made or saved (no subject, a title missing or too long, no such
    assessment): English for the CLI, `key` and `params` for the dashboard's Chinese text."""


@dataclass
class Assessment:
    """One assessment as plain values (JSON-ready); the renderers read only this."""

    title: str
    query: str | None
    topic: str | None
    event_day: str              # Beijing YYYY-MM-DD
    generated_at: str           # UTC ISO
    window: dict                # first, last (Beijing days), days
    volume: dict
    rumours: dict
    resources: dict
    level: str
    signals: list[dict] = field(default_factory=list)   # {code, weight, text}
    advice: list[str] = field(default_factory=list)
    note: str | None = None
    id: int | None = None       # once saved

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Assessment:
        return cls(**json.loads(text))


# --- computing ------------------------------------------------------------------------------

def _text(value, limit: int, key: str, one_line: bool = True) -> str | None:
    """`value` trimmed (`one_line`: its white space runs made one space), or AssessmentError when it
    is longer than `limit`; None for nothing."""
    text = " ".join(str(value or "").split()) if one_line else str(value or "").strip()
    if len(text) > limit:
        raise AssessmentError(f"the assessment's {key} has {len(text)} characters; at most {limit}",
                              "assessment_text_long", assessment_field=key, n=len(text), max=limit)
    return text or None


def _subject(title, query, topic, note) -> tuple[str, str | None, search.Query, str | None, str | None]:
    title = _text(title, TITLE_MAX, "title")
    if not title:
        raise AssessmentError("an assessment needs its subject's title (the policy, activity or work)",
                              "assessment_title_missing")
    topic = (topic or "").strip() or None
    if topic is not None and topic not in TOPICS:
        raise AssessmentError(f"{topic!r} is not one of the 15 Healthy China actions", "assessment_topic", value=topic)
    query = " ".join(str(query or "").split()) or None
    if query is None and topic is None:
        raise AssessmentError("an assessment needs words to find its subject's items, or a topic, or both",
                              "assessment_subject_missing")
    parsed = search.parse_query(query or "", words_needed=topic is None)
    return title, query, parsed, topic, _text(note, NOTE_MAX, "note", one_line=False)


def _read(db, parsed: search.Query, topic: str | None, first: date, days: int, threshold: float,
          latest: int = 0) -> dict:
    start, end = store.day_range(first, days)
    groups, excluded = parsed.spellings()
    return store.subject_hits(db, groups, excluded, start, end, threshold, latest=latest, topic=topic)


def _polarity(day_rows: list[dict]) -> dict:
    out = {"positive": 0, "neutral": 0, "negative": 0, None: 0}
    for r in day_rows:
        out[r["polarity"] if r["polarity"] in out else None] += r["n"]
    return out


def _negative_share(polarity: dict) -> float | None:
    return percent(polarity["negative"], polarity["positive"] + polarity["neutral"] + polarity["negative"])


def _change(now: float, before: float) -> int | None:
    return None if not before else round((now / before - 1) * 100)


def change_text(change: int | None) -> str:
    if change is None:
        return tr("none")
    return tr("change.same") if change == 0 else f"{change:+d}%"


def _volume(hits: dict, feed: dict, first: date, today: date, data_first: date | None) -> dict:
    """The subject's figures; the days before the last TREND_DAYS count from the store's first day
    when it began within the window (a young installation has no baseline for them: `before_days`
    0, and no rise is claimed)."""
    per_day: Counter = Counter()
    flagged_per_day: Counter = Counter()
    for r in hits["days"]:
        per_day[r["day"]] += r["n"]
        flagged_per_day[r["day"]] += r["flagged"]
    recent_first = today - timedelta(days=TREND_DAYS)
    recent = sum(n for d, n in per_day.items() if recent_first.isoformat() <= d < today.isoformat())
    before = sum(n for d, n in per_day.items() if d < recent_first.isoformat())
    before_days = max(0, (recent_first - max(first, data_first or first)).days)
    polarity = _polarity(hits["days"])
    return {"items": sum(per_day.values()), "stories": hits["stories"],
            "health": sum(r["health"] for r in hits["days"]), "today": per_day.get(today.isoformat(), 0),
            "recent": recent, "recent_mean": round(recent / TREND_DAYS, 1), "before": before,
            "before_mean": round(before / before_days, 1) if before_days else None, "before_days": before_days,
            "change": _change(recent / TREND_DAYS, before / before_days) if before_days else None,
            "polarity": {k or "unscored": v for k, v in polarity.items()}, "line": opinion_line(polarity),
            "negative": polarity["negative"], "negative_share": _negative_share(polarity),
            "feed_negative_share": _negative_share(feed),
            "daily": [{"day": d, "n": per_day.get(d, 0), "flagged": flagged_per_day.get(d, 0)} for d in
                      ((first + timedelta(days=i)).isoformat() for i in range(RECENT_DAYS + 1))]}


def daily_chart_png(a: Assessment) -> bytes | None:
    """The subject's items (blue) and flagged items (red) per Beijing day of the window, for the
    document; None when it has no item."""
    daily = a.volume.get("daily") or []
    if not any(d["n"] for d in daily):
        return None
    from .reports import integer_ticks, matplotlib_pyplot, png_bytes

    plt = matplotlib_pyplot()
    fig, ax = plt.subplots(figsize=(8, 2.8), dpi=150)
    x = list(range(len(daily)))
    ax.bar(x, [d["n"] for d in daily], color="#1565c0", width=0.8, label=tr("chart.items"))
    ax.bar(x, [d.get("flagged", 0) for d in daily], color="#c62828", width=0.5, label=tr("chart.flagged"))
    ax.axvline(len(daily) - 1 - TREND_DAYS - 0.5, color="#616e7c", linestyle="--", linewidth=1)
    ax.yaxis.set_major_locator(integer_ticks())
    ax.spines[["top", "right"]].set_visible(False)
    every = max(1, len(daily) // 10)
    ax.set_xticks(x[::every], [d["day"][5:] for d in daily][::every], fontsize=7)
    ax.legend(fontsize=7, frameon=False, loc="upper left")
    ax.set_title(tr("chart.title"), fontsize=10)
    fig.tight_layout()
    return png_bytes(fig, plt)


def _focus(db, parsed: search.Query, latest: list[int]) -> dict:
    """What the subject's items talk about (seed 001: "广泛收集媒体焦点和民意倾向"): the words that stand
    out in its newest items (`latest`, FOCUS_ITEMS at most), and in the negative ones among them, the
    subject's own words left out (they are in every item)."""
    from .briefing import hot_words

    rows = store.items_with_text(db, latest)
    own = [t.lower() for t in parsed.terms]

    def words(texts: list[str]) -> list[str]:
        found = hot_words(texts, FOCUS_WORDS + len(own) * 2)
        return [w for w in found if not any(w.lower() in t or t in w.lower() for t in own)][:FOCUS_WORDS]

    def text(r: dict) -> str:
        return f"{r.get('title') or ''} {r.get('text') or ''}"

    return {"read": len(rows), "words": words([text(r) for r in rows]),
            "negative": words([text(r) for r in rows if r["polarity"] == "negative"])}


def _rumours(db, hits: dict) -> dict:
    stories: dict = {}
    for r in hits["flagged"]:
        s = stories.setdefault(r["story"], {"story": r["story"], "cluster_id": r["cluster_id"], "items": 0,
                                            "debunked": False, "p": -1.0, "item_id": None})
        s["items"] += 1
        s["debunked"] = s["debunked"] or bool(r["d"])
        if r["p"] > s["p"] or (r["p"] == s["p"] and r["id"] < s["item_id"]):
            s["p"], s["item_id"] = r["p"], r["id"]
    alerts = store.cluster_alerts(db, [s["cluster_id"] for s in stories.values()])
    open_alerts = [a for a in alerts.values() if a["status"] in store.WORKFLOW_OPEN_STATUSES]
    ranked = sorted(stories.values(), key=lambda s: (-s["p"], s["item_id"]))
    items = {i["id"]: i for i in store.items_with_text(db, [s["item_id"] for s in ranked[:TOP_STORIES]])}
    top = []
    for s in ranked[:TOP_STORIES]:
        item = items.get(s["item_id"], {})
        alert = alerts.get(s["cluster_id"])
        top.append({"item_id": s["item_id"], "published_at": item.get("published_at"),
                    "platform": item.get("platform"), "account": item.get("account") or item.get("author"),
                    "p": round(s["p"], 3), "items": s["items"], "debunked": s["debunked"],
                    "alert": None if alert is None else {k: alert[k] for k in ("id", "severity", "status")},
                    "text": clip(((item.get("title") or "") + " " + (item.get("text") or "")).strip(), 80)})
    accounts = Counter((r["platform"], r["account"]) for r in hits["flagged"] if r["account"])
    return {"items": len(hits["flagged"]), "stories": len(stories),
            "debunked": sum(s["debunked"] for s in stories.values()),
            "open": sum(not s["debunked"] for s in stories.values()),
            "alerts": len(alerts), "open_alerts": len(open_alerts),
            "serious_alerts": sum(a["severity"] in ("一级", "二级") for a in open_alerts),
            "top": top,
            "accounts": [{"platform": p, "account": a, "items": n}
                         for (p, a), n in sorted(accounts.items(), key=lambda kv: (-kv[1], kv[0]))
                         if n >= REPEAT_ITEMS][:TOP_STORIES]}


def _resources(db, topic: str | None, topics: dict, start: str, end: str) -> dict:
    """The topic (given, or the one most of the items fall under), the pool's experts of it, the
    clarifications published here on it, and `own_posts`: the office's own channels' posts on it in
    [start, end) (rumourwatch.ownmedia; None without channels)."""
    inferred = topic is None
    if inferred and topics:
        topic = max(topics, key=topics.get)  # (the first of equals in the store's order)
    if topic is None:
        return {"topic": None, "inferred": True, "topic_items": 0, "experts": [], "experts_n": 0,
                "clarifications": 0, "recent": [], "own_posts": None}
    channels = [(c["platform"], c["account"]) for c in store.list_own_accounts(db)]
    experts = [e for e in store.list_experts(db) if e["active"] and topic in expert_topics(e)]
    experts.sort(key=lambda e: (LEVELS.index(e["level"]) if e["level"] in LEVELS else len(LEVELS), e["name"]))
    return {"topic": topic, "inferred": inferred, "topic_items": topics.get(topic, 0),
            "experts": [{k: e.get(k) for k in ("name", "title", "level", "institution")} for e in experts[:LISTED_EXPERTS]],
            "experts_n": len(experts), "clarifications": store.count_published_clarifications(db, topic),
            "recent": [c["title"] for c in store.published_clarifications(db, topic, RECENT_CLARIFICATIONS)],
            "own_posts": store.own_account_topics(db, channels, start, end).get(topic, 0) if channels else None}


def _signals(volume: dict, rumours: dict) -> list[dict]:
    out = []

    def add(code: str, weight: int, **figures) -> None:
        out.append({"code": code, "weight": weight, "text": tr(f"signal.{code}", **figures)})

    if rumours["open"]:
        add("open_stories", 2 if rumours["open"] >= OPEN_STORIES_HIGH else 1, n=rumours["open"], high=OPEN_STORIES_HIGH)
    if rumours["serious_alerts"]:
        add("serious_alerts", 2, n=rumours["serious_alerts"])
    elif rumours["open_alerts"]:
        add("alerts", 1, n=rumours["open_alerts"])
    before = volume["before"] / volume["before_days"] if volume["before_days"] else None
    ratio = volume["recent"] / TREND_DAYS / before if before else None
    if volume["before_days"] and volume["recent"] >= RISE_MIN_ITEMS and (ratio is None or ratio >= RISE):
        high = volume["recent"] >= RISE_HIGH_MIN_ITEMS and (ratio is None or ratio >= RISE_HIGH)
        add("rising", 2 if high else 1, recent=TREND_DAYS, items=f"{volume['recent']:,}",
            ratio="∞" if ratio is None else f"{ratio:.1f}")
    share, feed = volume["negative_share"], volume["feed_negative_share"]
    if share is not None and feed and volume["negative"] >= NEGATIVE_MIN and share >= NEGATIVE_RATIO * feed:
        add("negative", 1, share=fmt_pct(share), feed=fmt_pct(feed), ratio=f"{share / feed:.1f}",
            n=f"{volume['negative']:,}")
    if rumours["accounts"]:
        add("accounts", 1, n=len(rumours["accounts"]))
    return out


def level_of(signals: list[dict]) -> str:
    """较高 when a signal weighs 2 or the signals together weigh HIGH_SCORE; 中等 with any; else 较低."""
    if any(s["weight"] >= 2 for s in signals) or sum(s["weight"] for s in signals) >= HIGH_SCORE:
        return "high"
    return "medium" if signals else "low"


def _advice(signals: list[dict], rumours: dict, resources: dict, day_text: str) -> list[str]:
    codes = {s["code"] for s in signals}
    topic = resources["topic"]
    topic_words = f"“{topic}”领域" if topic else "相关领域"
    out = []
    if "open_stories" in codes:
        out.append(tr("advice.open_stories", n=rumours["open"], topic=topic_words))
    if codes & {"alerts", "serious_alerts"}:
        out.append(tr("advice.alerts", n=rumours["open_alerts"], day=day_text))
    if "negative" in codes:
        out.append(tr("advice.negative"))
    if "rising" in codes:
        out.append(tr("advice.rising"))
    if "accounts" in codes:
        out.append(tr("advice.accounts", n=len(rumours["accounts"])))
    if topic:
        out.append(tr("advice.experts", topic=topic_words, n=resources["experts_n"]) if resources["experts_n"]
                   else tr("advice.no_experts", topic=topic))
        if resources["clarifications"]:
            out.append(tr("advice.reuse", n=resources["clarifications"]))
        if resources.get("own_posts") == 0:  # (None: no channel registered)
            out.append(tr("advice.own", topic=topic, day=day_text))
    out.append(tr("advice.watch", day=day_text, after=AFTER_DAYS))
    return out


def day_text(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d.year} 年 {d.month} 月 {d.day} 日"


def compute(db, *, title: str, query: str | None, topic: str | None, event_day: date, now: datetime,
            threshold: float, note: str | None = None) -> Assessment:
    """Assess the subject (`query` in 条目检索's syntax and/or `topic`) of what is planned for
    `event_day` from the items of the last RECENT_DAYS Beijing days and today so far. AssessmentError
    (or search.SearchError for a query it cannot run), and nothing read, when the subject is wrong."""
    title, query, parsed, topic, note = _subject(title, query, topic, note)
    if not isinstance(event_day, date):
        raise AssessmentError(f"{event_day!r} is not a day", "assessment_day", value=str(event_day))
    today = now.astimezone(CST).date()
    first = today - timedelta(days=RECENT_DAYS)
    hits = _read(db, parsed, topic, first, RECENT_DAYS + 1, threshold, latest=FOCUS_ITEMS)
    start, end = store.day_range(first, RECENT_DAYS + 1)
    earliest = store.earliest_published(db)
    volume = _volume(hits, store.polarity_counts(db, start, end), first, today,
                     parse_time(earliest).astimezone(CST).date() if earliest else None)
    volume["focus"] = _focus(db, parsed, hits["latest"])
    rumours = _rumours(db, hits)
    resources = _resources(db, topic, hits["topics"], start, end)
    signals = _signals(volume, rumours)
    return Assessment(title=title, query=query, topic=topic, event_day=event_day.isoformat(), generated_at=iso(now),
                      window={"first": first.isoformat(), "last": today.isoformat(), "days": RECENT_DAYS},
                      volume=volume, rumours=rumours, resources=resources, level=level_of(signals), signals=signals,
                      advice=_advice(signals, rumours, resources, day_text(event_day.isoformat())), note=note)


# --- saving, and what followed --------------------------------------------------------------

def save(db, a: Assessment, *, actor: str, now: datetime) -> int:
    """Keep the assessment as made (audited: 保存事前研判); its id."""
    at = iso(now)
    with store.transaction(db):
        a.id = store.insert_assessment(db, {"title": a.title, "query": a.query, "topic": a.topic,
                                            "event_day": a.event_day, "level": a.level, "report": a.to_json(),
                                            "made_by": actor, "made_at": at})
        store.record_audit(db, actor, "assessment.save", "assessment", a.id,
                           {"title": a.title, "query": a.query, "topic": a.topic, "event_day": a.event_day,
                            "level": a.level}, at=at)
    return a.id


def remove(db, assessment_id: int, *, reason: str, actor: str, now: datetime) -> dict:
    """Take a kept assessment off the list (saved by mistake, its plan dropped): kept with the
    reason, audited (删除事前舆情风险评估)."""
    found = store.get_assessment(db, assessment_id)
    if found is None or found["removed_at"]:
        raise AssessmentError(f"no assessment #{assessment_id} to remove", "assessment_missing", id=assessment_id)
    reason = _text(reason, REASON_MAX, "reason")
    if not reason:
        raise AssessmentError("removing an assessment needs the reason", "assessment_reason_missing")
    at = iso(now)
    with store.transaction(db):
        store.update_assessment(db, assessment_id, removed_by=actor, removed_at=at, remove_reason=reason)
        store.record_audit(db, actor, "assessment.remove", "assessment", assessment_id,
                           {"title": found["title"], "reason": reason}, at=at)
    return store.get_assessment(db, assessment_id)


def saved(db, assessment_id: int) -> Assessment:
    row = store.get_assessment(db, assessment_id)
    if row is None:
        raise AssessmentError(f"no assessment #{assessment_id}", "assessment_missing", id=assessment_id)
    a = Assessment.from_json(row["report"])
    a.id = row["id"]
    return a


def aftermath(db, a: Assessment | dict, today: date, threshold: float) -> dict:
    """What followed the planned day: the AFTER_DAYS days from it (full days, to yesterday at most)
    against the AFTER_DAYS before it — items, flagged, negative share. {"state": "ahead"} before the
    day, {"state": "running"} on it."""
    get = a.get if isinstance(a, dict) else lambda k: getattr(a, k)
    day = date.fromisoformat(get("event_day"))
    if day > today:
        return {"state": "ahead"}
    last = min(day + timedelta(days=AFTER_DAYS - 1), today - timedelta(days=1))
    if last < day:
        return {"state": "running"}
    parsed = search.parse_query(get("query") or "", words_needed=False)
    days = (last - day).days + 1
    after = _read(db, parsed, get("topic"), day, days, threshold)
    before = _read(db, parsed, get("topic"), day - timedelta(days=AFTER_DAYS), AFTER_DAYS, threshold)
    n_after, n_before = (sum(r["n"] for r in h["days"]) for h in (after, before))
    return {"state": "done" if days == AFTER_DAYS else "partial", "first": day.isoformat(), "last": last.isoformat(),
            "days": days, "items": n_after, "before": n_before,
            "change": _change(n_after / days, n_before / AFTER_DAYS),
            "flagged": len(after["flagged"]), "before_flagged": len(before["flagged"]),
            "negative_share": _negative_share(_polarity(after["days"])),
            "before_negative_share": _negative_share(_polarity(before["days"]))}


def aftermath_text(after: dict) -> str:
    """One line for a table: "条目 +120%（84 条），疑似谣言 5 条（此前 1）" or the state."""
    if after["state"] in ("ahead", "running"):
        return tr(f"cell.{after['state']}")
    return tr("cell.after", items=f"{after['items']:,}", change=change_text(after["change"]),
              flagged=f"{after['flagged']:,}", before=f"{after['before_flagged']:,}") \
        + ("" if after["state"] == "done" else tr("cell.partial", n=after["days"]))


def kept_between(db, first: date, last: date) -> list[dict]:
    """The kept assessments planned for the Beijing days `first` to `last` (both included), the
    nearest first; none in a store from before them. The eve's reminder, 领导概览 and the reports
    read them so."""
    if not store.has_tables(db, "assessments"):
        return []
    return store.assessments_between(db, first.isoformat(), last.isoformat())


# --- the day before ----------------------------------------------------------------------------

TOLD_KEY = "assessment_eve_told"   # workflow state: the ids of the kept assessments told of


def remind_eve(db, now: datetime, rules: dict) -> list[dict]:
    """Tell the monitors' group bots and mailboxes, once, of each kept assessment whose day is
    tomorrow (Beijing): its level and reasons, and whether its words are watched yet, so the
    release is watched from its first hour. Run by the worker's round and `rumourwatch alerts
    escalate` (one indexed read a round). Returns the assessments told of."""
    from .notify import queue_monitors

    tomorrow = now.astimezone(CST).date() + timedelta(days=1)
    due = kept_between(db, tomorrow, tomorrow)
    told = set(json.loads(store.workflow_state(db, TOLD_KEY) or "[]"))
    new = [row for row in due if row["id"] not in told]
    if not new:
        return []
    watched = set(rules["watch"]["keywords"])
    with store.transaction(db):
        for row in new:
            a = Assessment.from_json(row["report"])
            lines = [tr("eve.line", day=_md(a.event_day), title=a.title, level=LEVEL_ZH[a.level],
                        made=beijing(row["made_at"]), by=row["made_by"]),
                     tr("eve.reasons", reasons="；".join(s["text"] for s in a.signals)) if a.signals else tr("risk.quiet"),
                     tr("eve.watched" if a.query in watched else "eve.unwatched", query=a.query) if a.query
                     else tr("eve.topic", topic=a.topic),
                     tr("eve.where")]
            queue_monitors(db, tr("eve.subject", title=a.title, level=LEVEL_ZH[a.level]), lines, rules, now,
                           event="assessment_eve")
        kept = told & {r["id"] for r in store.list_assessments(db, limit=10_000)}
        store.set_workflow_state(db, TOLD_KEY, json.dumps(sorted(kept | {r["id"] for r in new})))
    return new


# --- the document ---------------------------------------------------------------------------

def _md(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d.month} 月 {d.day} 日"


def _when(a: Assessment) -> str:
    n = (date.fromisoformat(a.event_day) - date.fromisoformat(a.window["last"])).days
    return tr("subject.when.today") if n == 0 else tr("subject.when.ahead", n=n) if n > 0 \
        else tr("subject.when.past", n=-n)


def _subject_text(a: Assessment) -> str:
    parts = ([tr("subject.words", query=a.query)] if a.query else []) + \
            ([tr("subject.topic", topic=a.topic)] if a.topic else [])
    return tr("subject.and").join(parts)


def _opinion_blocks(a: Assessment, charts: bool = True) -> list[tuple]:
    v = a.volume
    if not v["items"]:
        return [("empty", tr("opinion.none"))]
    chart = daily_chart_png(a) if charts else None
    lines = [tr("opinion.volume", items=f"{v['items']:,}", stories=f"{v['stories']:,}", health=f"{v['health']:,}",
                today=f"{v['today']:,}"),
             tr("opinion.line", line=v["line"]),
             tr("opinion.negative", share=fmt_pct(v["negative_share"]), feed=fmt_pct(v["feed_negative_share"])),
             tr("opinion.trend", recent=TREND_DAYS, mean=v["recent_mean"], before=v["before_days"],
                before_mean=v["before_mean"], change=change_text(v["change"])) if v["before"]
             else tr("opinion.trend.new", recent=TREND_DAYS, mean=v["recent_mean"], before=v["before_days"])
             if v["before_days"] else tr("opinion.trend.young", recent=TREND_DAYS, mean=v["recent_mean"])]
    focus = v.get("focus") or {}
    if focus.get("words"):
        lines.append(tr("opinion.focus", n=f"{focus['read']:,}", words="、".join(focus["words"])))
    if focus.get("negative"):
        lines.append(tr("opinion.focus.negative", words="、".join(focus["negative"])))
    if v["items"] < FEW_ITEMS:
        lines.append(tr("opinion.few", n=FEW_ITEMS))
    return [("lines", lines)] + ([("chart", chart, tr("chart.caption", n=TREND_DAYS))] if chart else [])


def _alert_cell(alert: dict | None) -> str:
    if not alert:
        return tr("none")
    return f"#{alert['id']} {alert['severity']} {ALERT_STATUS_ZH.get(alert['status'], alert['status'])}"


def _rumour_blocks(a: Assessment) -> list[tuple]:
    r = a.rumours
    if not r["stories"]:
        return [("lines", [tr("rumours.none")])]
    lines = [tr("rumours.line", items=f"{r['items']:,}", stories=f"{r['stories']:,}", debunked=r["debunked"],
                open=r["open"])]
    if r["alerts"]:
        lines.append(tr("rumours.alerts", n=r["alerts"], open=r["open_alerts"], serious=r["serious_alerts"]))
    blocks: list[tuple] = [("lines", lines)]
    head = [tr(f"col.{k}") for k in ("first", "platform", "account", "p", "items", "state", "alert", "content")]
    blocks.append(("table", tr("rumours.top", n=TOP_STORIES), head,
                   [[beijing(s["published_at"], "%m-%d %H:%M") or tr("none"), s["platform"] or tr("none"),
                     short_account(s["account"] or tr("none")), f"{s['p']:.2f}", s["items"],
                     tr("state.debunked" if s["debunked"] else "state.open"), _alert_cell(s["alert"]), s["text"]]
                    for s in r["top"]]))
    if r["accounts"]:
        blocks.append(("table", tr("rumours.accounts"), [tr("col.platform"), tr("col.account"), tr("col.flagged")],
                       [[x["platform"], short_account(x["account"]), x["items"]] for x in r["accounts"]]))
    return blocks


def _risk_blocks(a: Assessment) -> list[tuple]:
    blocks: list[tuple] = [("lead", tr("risk.lead", level=LEVEL_ZH[a.level]))]
    if a.signals:
        blocks.append(("lines", [f"{i}. {s['text']}。" for i, s in enumerate(a.signals, 1)]))
    else:
        blocks.append(("lines", [tr("risk.quiet")]))
    return blocks


def _resource_blocks(a: Assessment) -> list[tuple]:
    r = a.resources
    if r["topic"] is None:
        return [("lines", [tr("resources.topic.none")])]
    how = tr("resources.topic.inferred", n=f"{r['topic_items']:,}") if r["inferred"] else tr("resources.topic.given")
    recent = tr("resources.clarifications.recent", titles="；".join(f"《{clip(t, 30)}》" for t in r["recent"])) \
        if r["recent"] else ""
    lines = [tr("resources.topic", topic=r["topic"], how=how),
             tr("resources.experts", n=r["experts_n"]) if r["experts_n"]
             else tr("resources.experts.none", topic=r["topic"]),
             tr("resources.clarifications", n=r["clarifications"], recent=recent)]
    if r.get("own_posts") is not None:  # (not in assessments kept before the channels were read)
        lines.append(tr("resources.own", n=r["own_posts"], days=a.window["days"]) if r["own_posts"]
                     else tr("resources.own.none", days=a.window["days"]))
    blocks: list[tuple] = [("lines", lines)]
    if r["experts"]:
        blocks.append(("table", None, [tr("col.name"), tr("col.level"), tr("col.institution")],
                       [[e["name"] + (f"（{e['title']}）" if e.get("title") else ""), e["level"] or tr("none"),
                         e["institution"] or tr("none")] for e in r["experts"]]))
    return blocks


def _after_lines(a: Assessment, after: dict) -> list[str]:
    day = _md(a.event_day)
    if after["state"] == "ahead":
        return [tr("after.ahead")]
    if after["state"] == "running":
        return [tr("after.running", day=day)]
    return [tr("after.lead", day=day, n=after["days"], before=AFTER_DAYS, first=_md(after["first"]),
               last=_md(after["last"])),
            tr("after.items", items=f"{after['items']:,}", before=f"{after['before']:,}",
               change=change_text(after["change"])),
            tr("after.flagged", items=f"{after['flagged']:,}", before=f"{after['before_flagged']:,}"),
            tr("after.negative", share=fmt_pct(after["negative_share"]), before=fmt_pct(after["before_negative_share"]))]


def sections(a: Assessment, after: dict | None = None, charts: bool = True) -> list[tuple[str, list[tuple]]]:
    """The document's numbered sections; `after` (from `aftermath`) adds 事后对照; `charts` False
    leaves the daily chart out (Markdown, and the page, which draws its own)."""
    subject = [tr("subject.title", title=a.title), tr("subject.day", day=day_text(a.event_day), when=_when(a)),
               tr("subject.query", what=_subject_text(a)), tr("subject.level", level=LEVEL_ZH[a.level])]
    parts = [(tr("s.subject"), [("lines", subject)]), (tr("s.opinion"), _opinion_blocks(a, charts)),
             (tr("s.rumours"), _rumour_blocks(a)), (tr("s.risk"), _risk_blocks(a)),
             (tr("s.resources"), _resource_blocks(a)), (tr("s.advice"), [("lines", [f"{i}. {x}" for i, x in
                                                                                   enumerate(a.advice, 1)])])]
    if a.note:
        parts.append((tr("s.note"), [("quote", a.note)]))
    if after is not None and after["state"] != "ahead":
        parts.append((tr("s.after"), [("lines", _after_lines(a, after))]))
    numerals = "一二三四五六七八九十"
    return [(f"{numerals[i]}、{title}", blocks) for i, (title, blocks) in enumerate(parts)]


def header(a: Assessment) -> tuple[str, str, list[str]]:
    """Title, subtitle and the notes under them (when made, the window; the seed it answers)."""
    return (tr("title"), tr("subtitle", title=a.title, day=day_text(a.event_day)),
            [tr("generated", time=beijing(a.generated_at), first=_md(a.window["first"]), last=_md(a.window["last"])),
             tr("basis")])


def render_markdown(a: Assessment, after: dict | None = None) -> str:
    title, subtitle, notes = header(a)
    return markdown_document(title, subtitle, notes, sections(a, after, charts=False), tr("footer"))


def render_html(a: Assessment, after: dict | None = None) -> str:
    from .briefing import html_document

    title, subtitle, notes = header(a)
    return html_document(title, subtitle, notes, sections(a, after), tr("footer"), chart_alt=tr("chart.title"))


def render_docx(a: Assessment, output: str | Path, after: dict | None = None) -> Path:
    from .wordfile import write_docx

    title, subtitle, notes = header(a)
    return write_docx(output, title, subtitle, notes, sections(a, after), tr("footer"), parse_time(a.generated_at))


def render(a: Assessment, fmt: str, output: str | Path, after: dict | None = None) -> Path:
    """Write the assessment in `fmt` (html, pdf, docx, md) to `output`."""
    return write_document(fmt, output, lambda: render_html(a, after), lambda: render_markdown(a, after),
                          lambda out: render_docx(a, out, after))


def to_bytes(a: Assessment, fmt: str, after: dict | None = None) -> bytes:
    return document_bytes(lambda f, out: render(a, f, out, after), fmt)


def default_filename(a: Assessment, fmt: str) -> str:
    name = "".join(c for c in a.title if c not in '\\/:*?"<>|')[:30]
    return f"事前舆情风险评估_{name}_{a.event_day.replace('-', '')}.{fmt}"


def summary_lines(a: Assessment) -> list[str]:
    """The assessment in a few lines (the CLI's output, the page's lead)."""
    v, r = a.volume, a.rumours
    lines = [f"{tr('risk.lead', level=LEVEL_ZH[a.level])}" + ("；".join(s["text"] for s in a.signals) or tr("risk.quiet"))]
    if v["items"]:
        lines.append(tr("opinion.volume", items=f"{v['items']:,}", stories=f"{v['stories']:,}", health=f"{v['health']:,}",
                        today=f"{v['today']:,}") + tr("opinion.line", line=v["line"]))
    lines.append(tr("rumours.line", items=f"{r['items']:,}", stories=f"{r['stories']:,}", debunked=r["debunked"],
                    open=r["open"]) if r["stories"] else tr("rumours.none"))
    return lines
