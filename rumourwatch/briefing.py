"""舆情专报: the special report on one alert's event, for the leaders who must decide on it.

When a sudden event breaks (seed 001: information out within 5 hours, a press conference within
24), the monitoring office sends its leaders one document about that event, not a feed: what the
claim is and why it was flagged, how far and how fast it spread and on which platforms, what the
public says about it (how many doubt it already), and what has been done — the two clocks, the
expert, the clarification, the platforms' takedowns, every step with its time. The monitor may add
an assessment (研判意见) of their own.

    b = compute_briefing(db, alert_id, now, note="建议…")
    render(b, "pdf", "专报.pdf")          # or "html" / "md": the same figures in each

`compute_briefing` reads the store into a `Briefing` of plain JSON values; the renderers read only
that, as the weekly report's do, and print in the same house style (`reports.REPORT_CSS`). An
alert that is no single story — an opinion spike, a watched keyword's digest — gets the items it
is made of instead of a story's spread. Reactors are never named: the report counts and quotes
what the public said, not who said it.
"""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

from . import referrals, store
from .alerts import WorkflowError, load_rules
from .effect import CAVEAT as EFFECT_CAVEAT
from .effect import alert_effect, doubt_share, outcome_lines
from .effect import pct as effect_pct
from .experts import item_clarification, suggest_experts
from .knowledge import FAINT_SIMILARITY
from .ledger import (
    ALERT_KIND_ZH,
    ALERT_STATUS_ZH,
    ASSIGN_STATUS_ZH,
    CLARIFICATION_STATUS_ZH,
    TAKEDOWN_STATUS_ZH,
    clock_outcome,
    step_text,
)
from .nlp.rumour import doubting, said
from .opinion import opinion_line
from .records import CST, beijing, hours_between, iso, parse_time
from .reports import (
    REPORT_CSS,
    clip,
    document_bytes,
    fmt_pct,
    integer_ticks,
    markdown_document,
    matplotlib_pyplot,
    percent,
    png_bytes,
    safe_url,
    short_account,
    write_document,
)
from .risk import account_record, record_text
from .tips import CHANNELS as TIP_CHANNELS
from .trending import alert_items

TOP_ITEMS = 10          # the story's most spread items listed
SUGGESTED_EXPERTS = 3   # pool experts proposed for an open alert no expert has taken
QUOTES = 5              # reactions quoted per kind (doubting, latest)
QUOTE_CHARS = 80
TEXT_CHARS = 300        # the representative item's text as printed
HOURLY_SPAN_HOURS = 72  # a story younger than this is charted by hour, else by Beijing day
DAYS_CHARTED = 92       # at most this many days (the latest) in a daily chart
TIMELINE_ROWS = 48      # the latest periods with items or reactions, listed under the chart
NOTE_MAX_CHARS = 4000
HOT_WORDS = 10                # words that stand out in the reactions, listed
HOT_WORD_MIN_REACTIONS = 10   # fewer reactions with words of their own: no such list
HOT_WORD_REACTIONS = 5000     # read from the latest reactions (what the public says now, in bounded time)

TEXT: dict[str, str] = {
    "title": "舆情专报",
    "subtitle": "预警 #{id}：{title}",
    "generated": "生成时间：{time}（北京时间）；数据截至生成时间，处置仍在进行中的以平台最新记录为准。",
    "overview": "事件概况",
    "spread": "传播态势",
    "reaction": "网民反应",
    "handling": "处置情况",
    "note": "研判意见",
    "alert.line": "{severity}预警（{kind}），当前状态：{status}。",
    "alert.found": "发现时间：{found}；首发时间：{first}（{platform}，{account}）。",
    "alert.found.no_item": "发现时间：{found}。",
    "alert.reasons": "触发原因：{reasons}。",
    "alert.first_record": "首发账号记录：{record}",
    "alert.topic": "话题：{topic}；地区：{region}。",
    "alert.probability": "谣言概率：{p}（模型 {model}，依据 {n} 条互动评分）。",
    "alert.debunk": "最相近的已发布辟谣：{title}（相似度 {score}）{flag}。",
    "alert.debunk.flag": "，判定为已辟谣",
    "alert.clarified": "本平台已发布澄清：{url}（{at}）。",
    "alert.tips": "公众举报：{n} 条（{channels}），最近一次 {last}。",
    "alert.text": "代表内容",
    "alert.gist": "人工判读大意（代表内容为民族文字，由判读人员译述）：{gist}",
    "spread.line": "共 {items} 条相关条目，{accounts}；平台分布：{platforms}。",
    "spread.accounts": "涉及 {n} 个账号", "spread.accounts.unknown": "发布账号未知",
    "spread.time": "首条发布于 {first}，最新一条发布于 {last}（持续 {span}）。",
    "spread.engagement": "各条目的平台计数合计：转发 {reposts}，评论 {comments}，点赞 {likes}。",
    "spread.collected": "平台已采集互动 {n} 条（转发 {reposts}、评论 {comments}）。",
    "spread.peak": "互动最集中的时段：{at}（{n} 条）。",
    "spread.chart": "相关条目与互动（{unit}，北京时间）",
    "spread.timeline": "分时段统计（最近 {n} 个有数据的时段）",
    "spread.early_days": "图中为最近 {shown} 天，更早的 {more} 天未画出。",
    "spread.top": "传播最广的条目",
    "unit.hour": "按小时", "unit.day": "按日",
    "reaction.opinion": "相关条目情感倾向：{line}。",
    "reaction.counts": "已采集互动 {n} 条，其中有实际内容 {worded} 条（其余为无评论的转发）；含质疑、辟谣类表述 {doubt} 条，占有内容互动的 {share}。",
    "reaction.none": "暂未采集到互动。",
    "reaction.hot_words": "互动中的高频关注词：{words}。",
    "reaction.doubting": "质疑、辟谣类互动（最早 {n} 条）",
    "reaction.latest": "最新的有内容互动（{n} 条）",
    "reaction.note": "互动只引用内容，不列出发布者。",
    "handling.clocks": "处置时限",
    "handling.escalated": "已于 {at} 向领导督办（{what}）。",
    "handling.assignments": "专家指派",
    "handling.assignments.none": "尚未指派专家。",
    "handling.suggested": "建议指派的专家（按专业、级别、地区、当前任务量与以往响应用时排序）",
    "handling.clarifications": "澄清稿",
    "handling.clarifications.none": "尚无澄清稿。",
    "handling.takedowns": "平台删除请求",
    "handling.referrals": "交办属地单位核实",
    "handling.effect": "辟谣效果（澄清稿发布前后各 {hours} 小时）",
    "chart.clarified": "澄清发布",
    "effect.doubt": "有内容互动中质疑、辟谣类占比",
    "col.measure": "指标", "col.before": "发布前", "col.after": "发布后",
    "handling.steps": "处置过程",
    "clock.respond": "信息发布",
    "clock.conference": "新闻发布会",
    "digest.line": "关注词「{keyword}」自 {since} 起 {hours} 小时内命中的事件较多：已单独预警 {after} 个，其后的 {n} 个事件合并在本条预警中。",
    "digest.items": "合并的最新事件（每个事件一条）",
    "tag.line": "话题「#{tag}#」近 {hours} 小时 {stories} 个相关事件（{accounts} 个账号），疑似谣言 {flagged} 条；此前 {before} 个事件。",
    "tag.items": "该话题下的疑似谣言（每个事件一条）",
    "spike.line": "{label}「{value}」负面占比 {share}，基线 {base}（{n} 条）。",
    "spike.items": "此前 {hours} 小时该话题传播最广的负面条目",
    "spike.region": "地区负面舆情突增由多个话题的条目组成，请在条目检索中按地区查看。",
    "rows.none": "{what}：暂无条目。",
    "mail.subject": "【舆情专报】预警 #{id}（{severity}）{title}",
    "mail.doubt": "有内容的互动 {worded} 条，其中质疑、辟谣类 {doubt} 条（{share}）。",
    "mail.attached": "专报全文见附件（PDF 供阅读，Word 供编辑），数据截至生成时间。",
    "step.sent": "专报已发送：{to}",
    "step.failed": "；{to} 未送达（{reason}）",
    "none": "—", "system": "系统",
    "col.rank": "排名", "col.at": "时间", "col.platform": "平台", "col.account": "账号", "col.content": "内容",
    "col.reactions": "互动", "col.likes": "点赞", "col.link": "链接", "col.period": "时段",
    "col.items": "新增条目", "col.new_reactions": "新增互动", "col.kind": "类型", "col.clock": "时限",
    "col.due": "截止时间", "col.done": "完成时间", "col.outcome": "情况", "col.expert": "专家",
    "col.status": "状态", "col.assigned": "指派时间", "col.note": "备注", "col.step": "处置环节",
    "col.unit": "单位", "col.referred": "交办时间", "col.reply": "反馈内容",
    "col.actor": "操作人", "col.reasons": "理由", "col.title": "标题", "col.requested": "提出时间", "col.outcome_at": "结果时间",
    "kind.repost": "转发", "kind.comment": "评论",
    "footer": "本专报由健康谣言监测平台根据数据库记录自动生成；各项数字均可在平台中复核。",
}


def tr(key: str, **kwargs) -> str:
    return TEXT[key].format(**kwargs) if kwargs else TEXT[key]


class BriefingError(WorkflowError):
    """The special report cannot be made (no such alert, a note too long): English for the CLI,
    `key` and `params` for the dashboard's Chinese text."""


@dataclass
class Briefing:
    """One alert's special report as plain values (JSON-ready); the renderers read only this."""

    alert_id: int
    title: str
    generated_at: str
    overview: dict
    spread: dict | None
    reaction: dict | None
    handling: dict
    note: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Briefing:
        return cls(**json.loads(text))


# --- computing ------------------------------------------------------------------------------

def _percent(n: int, d: int) -> str:
    return fmt_pct(percent(n, d))  # as the reports print a share (rounded half up, — for none)


def _span_text(first: str | None, last: str | None) -> str:
    hours = hours_between(first, last)
    if hours is None:
        return tr("none")
    if hours < 1:
        return f"{max(hours * 60, 0):.0f} 分钟"
    return f"{hours:.1f} 小时" if hours < 48 else f"{hours / 24:.1f} 天"


def _actor(actor: str | None) -> str:
    return tr("system") if (actor or "").partition(":")[0] == "system" else (actor or tr("none"))


def _item_row(rank: int, item: dict) -> dict:
    return {"rank": rank, "at": beijing(item["published_at"]), "platform": item["platform"],
            "account": item.get("account") or "", "content": clip(item.get("title") or item.get("text"), 60),
            "reactions": max(item.get("reaction_count") or 0, (item.get("repost_num") or 0)
                             + (item.get("comment_num") or 0)),
            "likes": item.get("like_num") or 0, "url": safe_url(item.get("url"))}


def _timeline(item_hours: dict, reaction_hours: dict) -> dict:
    """Items and reactions per Beijing hour (a story younger than HOURLY_SPAN_HOURS) or day."""
    counts: dict[datetime, list[int]] = {}
    for series, hours in ((0, item_hours), (1, reaction_hours)):
        for key, n in hours.items():
            try:
                at = parse_time(f"{key}:00:00+00:00").astimezone(CST)
            except ValueError:  # a stored time the store could not have written: not a period of the story
                continue
            counts.setdefault(at, [0, 0])[series] += n
    if not counts:
        return {"unit": "hour", "bins": [], "days_left_out": 0}
    first, last = min(counts), max(counts)
    hourly = (last - first) <= timedelta(hours=HOURLY_SPAN_HOURS)
    if not hourly:
        by_day: dict[datetime, list[int]] = {}
        for at, (i, r) in counts.items():
            day = at.replace(hour=0)
            by_day.setdefault(day, [0, 0])
            by_day[day][0] += i
            by_day[day][1] += r
        counts, first, last = by_day, min(by_day), max(by_day)
    step = timedelta(hours=1) if hourly else timedelta(days=1)
    periods, at = [], first
    while at <= last:
        periods.append(at)
        at += step
    left_out = max(len(periods) - DAYS_CHARTED, 0) if not hourly else 0
    periods = periods[left_out:]
    fmt = "%m-%d %H:00" if hourly else "%Y-%m-%d"
    return {"unit": "hour" if hourly else "day", "days_left_out": left_out,
            "bins": [{"at": p.strftime(fmt), "items": counts.get(p, [0, 0])[0],
                      "reactions": counts.get(p, [0, 0])[1]} for p in periods]}


def _story(db, alert: dict) -> tuple[dict, dict]:
    """The spread and the reaction sections of an alert on one story (its cluster, else its item)."""
    cluster_id, item_id = alert["cluster_id"], alert["item_id"]
    spread = store.story_spread(db, cluster_id, item_id)
    reactions = store.story_reaction_texts(db, cluster_id, item_id)
    spread["reactions"] = dict(Counter(r["kind"] for r in reactions))
    timeline = _timeline(store.story_item_hours(db, cluster_id, item_id),
                         Counter(r["at"][:13] for r in reactions if r["at"]))
    peak = max(timeline["bins"], key=lambda b: b["reactions"], default=None)
    spread.update(timeline=timeline, peak=peak if peak and peak["reactions"] else None,
                  top=[_item_row(i, r) for i, r in
                       enumerate(store.story_top_items(db, cluster_id, item_id, TOP_ITEMS), 1)])
    worded = [dict(r, said=words) for r in reactions if (words := said(r["text"]))]
    doubts = [r for r in worded if doubting(r["said"])]

    def quote(r):
        return {"at": beijing(r["at"]), "kind": tr(f"kind.{r['kind']}") if r["kind"] in ("repost", "comment")
                else r["kind"], "text": clip(r["said"], QUOTE_CHARS)}

    reaction = {"opinion": dict(spread["polarity"]), "n": len(reactions), "worded": len(worded),
                "hot_words": hot_words([r["said"] for r in worded[-HOT_WORD_REACTIONS:]]),
                "doubting": len(doubts), "doubting_quotes": [quote(r) for r in doubts[:QUOTES]],
                "latest_quotes": [quote(r) for r in worded[-QUOTES:][::-1]]}
    return spread, reaction


_EMOTICON = re.compile(r"\[[^\[\]\s]{1,8}\]")  # Weibo's [哈哈], [抓狂]: a mood, not a concern
_NOT_A_WORD = re.compile(r"[\dA-Za-z_.%\-]+")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# the platforms' own words around a post (a folded post's 全文 / 收起, 网页链接 …): in every post, about none
PLATFORM_WORDS = frozenset({"全文", "收起", "展开", "微博", "网页链接", "转发", "视频", "秒拍", "秒拍视频", "原图", "查看",
                            "链接", "分享", "评论", "点赞", "的微博", "头条", "抖音"})


def hot_words(texts: list[str], k: int = HOT_WORDS) -> list[str]:
    """What the reactions keep talking about: the k words that stand out in them (jieba's TF-IDF
    keywords; numbers, Latin strings, emoticon codes, words without a Chinese character (##) and the
    platforms' own words around a post left out); none for fewer than
    HOT_WORD_MIN_REACTIONS reactions, where a word or two would read as a trend."""
    if len(texts) < HOT_WORD_MIN_REACTIONS:
        return []
    import jieba
    import jieba.analyse

    jieba.setLogLevel(60)  # its dictionary-loading chatter is not the report's business
    joined = _EMOTICON.sub(" ", "\n".join(texts))
    return [w for w in jieba.analyse.extract_tags(joined, topK=k * 3)
            if _CJK.search(w) and w not in PLATFORM_WORDS and not _NOT_A_WORD.fullmatch(w)][:k]


def _overview(db, alert: dict, item: dict | None, spread: dict | None) -> dict:
    rules = json.loads(alert["rules"] or "[]")
    out = {"severity": alert["severity"], "kind": ALERT_KIND_ZH.get(alert["kind"], alert["kind"]),
           "status": ALERT_STATUS_ZH.get(alert["status"], alert["status"]), "title": alert["title"] or "",
           "topic": alert["topic"], "region": alert["region"], "found": beijing(alert["created_at"]),
           "reasons": [r.get("reason", "") for r in rules], "item": None, "score": None, "tips": None,
           "clarified": None, "metrics": json.loads(alert["metrics"] or "{}"), "alert_kind": alert["kind"]}
    if item is None:
        return out
    out["item"] = {"id": item["id"], "platform": item["platform"], "account": item.get("account") or "",
                   "published": beijing(item["published_at"]), "first": beijing(spread["first_at"]),
                   "first_platform": spread["first_item"]["platform"],
                   "first_account": spread["first_item"]["account"] or "",
                   "text": clip(item.get("text"), TEXT_CHARS), "title": item.get("title"),
                   "url": safe_url(item.get("url")),
                   # a post in Mongolian, Tibetan or Uyghur script: what its reader made of it, in Chinese
                   "gist": store.latest_gists(db, [item["id"]]).get(item["id"])}
    score = store.latest_score(db, item["id"])
    if score is not None:
        out["score"] = {"p": score["rumour_probability"], "model": score["model_version"],
                        "reactions": score["reactions_seen"], "debunk_title": score["debunk_title"],
                        "debunk_url": safe_url(score["debunk_url"]), "debunk_score": score["debunk_score"],
                        "already_debunked": bool(score["already_debunked"])}
    tips = store.story_tips(db, item["id"])
    if tips["n"]:
        out["tips"] = {"n": tips["n"], "last": beijing(tips["last"]),
                       "channels": {TIP_CHANNELS.get(c, c): n for c, n in tips["channels"].items()}}
    clarified = item_clarification(db, item["id"])
    if clarified:
        out["clarified"] = {"url": safe_url(clarified.get("published_url")) or clarified.get("published_url"),
                            "at": beijing(clarified.get("published_at"))}
    return out


def _handling(db, alert: dict, now: datetime) -> dict:
    clocks = [{"clock": tr("clock.respond"), "due": beijing(alert["respond_by"]),
               "done": beijing(alert["responded_at"]),
               "outcome": clock_outcome(alert["responded_at"], alert["respond_by"], alert["status"], now)}]
    clocks.append({"clock": tr("clock.conference"), "due": beijing(alert["conference_by"]),
                   "done": beijing(alert["conference_at"]),
                   "outcome": clock_outcome(alert["conference_at"], alert["conference_by"], alert["status"], now)})
    escalations = [{"at": beijing(alert[k]), "what": what} for k, what in
                   (("respond_escalated_at", "信息发布时限"), ("conference_escalated_at", "发布会时限")) if alert[k]]
    tasks = store.alert_assignments(db, alert["id"])
    assignments = [{"expert": a["expert_name"] + (f"（{a['expert_institution']}）" if a.get("expert_institution") else ""),
                    "status": ASSIGN_STATUS_ZH.get(a["status"], a["status"]), "assigned": beijing(a["assigned_at"]),
                    "due": beijing(a["due_at"]),
                    "note": (a.get("cancel_reason") if a["status"] == "cancelled" else a.get("decline_reason")) or ""}
                   for a in tasks]
    clarifications = [{"title": c["title"], "status": CLARIFICATION_STATUS_ZH.get(c["status"], c["status"]),
                       "at": beijing(c["published_at"] or c["reviewed_at"] or c["submitted_at"] or c["updated_at"]),
                       "url": safe_url(c["published_url"])}
                      for c in store.clarifications_for_alert(db, alert["id"])]
    referred = [] if not store.has_tables(db, "referrals") else [
        {"unit": r["unit_name"], "referred": beijing(r["referred_at"]), "due": beijing(r["due_at"]),
         "status": referrals.STATE_ZH[referrals.state(r, now)], "reply": r["reply"] or r["withdraw_reason"] or ""}
        for r in reversed(store.list_referrals(db, alert_id=alert["id"]))]
    takedowns = [] if not alert["item_id"] else [
        {"platform": t["platform"] or "", "account": t["account"] or "", "requested": beijing(t["requested_at"]),
         "status": TAKEDOWN_STATUS_ZH.get(t["status"], t["status"]), "outcome_at": beijing(t["outcome_at"]),
         "note": t["outcome_note"] or t["note"] or ""}
        for t in store.story_takedowns(db, alert["cluster_id"], alert["item_id"])]
    steps = [{"at": beijing(s["at"]), "step": step_text(s["step"]), "actor": _actor(s["actor"]),
              "note": s["note"] or ""} for s in store.alert_steps(db, alert["id"])]
    active = any(a["status"] in store.ASSIGNMENT_ACTIVE for a in tasks)
    suggested = [] if active or alert["status"] not in store.WORKFLOW_OPEN_STATUSES else [
        {"expert": f"{e['name']}（{'，'.join(x for x in (e['title'], e['institution'], e['level']) if x)}）",
         "reasons": "；".join(e["reasons"])} for e in suggest_experts(db, alert["id"], SUGGESTED_EXPERTS, now=now)]
    found = alert_effect(db, alert["id"], now) if alert["item_id"] else None
    return {"clocks": clocks, "escalations": escalations, "assignments": assignments, "suggested": suggested,
            "referrals": referred, "clarifications": clarifications, "takedowns": takedowns, "steps": steps,
            "effect": None if found is None else {
                "published_at": found["published_at"], "window": found["window_hours"], "before": found["before"],
                "after": found["after"], "lines": outcome_lines(found)}}


def _made_of(db, alert: dict, overview: dict, rules: dict) -> dict | None:
    """What an alert that is no single story is made of: a digest's latest stories, a topic spike's
    most spread negative items; None for others."""
    metrics = overview["metrics"]
    if metrics.get("tag"):
        rows = alert_items(db, alert, rules["tag_surge"]["flag_probability"], TOP_ITEMS)
        return {"kind": "tag", "rows": [_item_row(n, i) for n, i in enumerate(rows, 1)]}
    if metrics.get("keyword"):
        items = [i for i in (store.get_item(db, i) for i in metrics.get("latest_items", [])) if i]
        return {"kind": "digest", "rows": [_item_row(n, i) for n, i in enumerate(items, 1)]}
    if alert["kind"] == "opinion_spike":
        if not alert["topic"]:
            return {"kind": "spike_region", "rows": []}
        hours = rules["opinion_spike"]["window_hours"]
        end = parse_time(alert["updated_at"])
        rows = store.negative_topic_items(db, alert["topic"], iso(end - timedelta(hours=hours)), iso(end), TOP_ITEMS)
        return {"kind": "spike", "hours": hours, "rows": [_item_row(n, i) for n, i in enumerate(rows, 1)]}
    return None


def compute_briefing(db, alert_id: int, now: datetime, note: str | None = None,
                     rules: dict | None = None, threshold: float = 0.5) -> Briefing:
    """The special report on alert `alert_id` as it stands at `now`; `threshold` is the rumour
    probability the dashboard counts as 疑似谣言 (settings.rumour_threshold), for the first
    publisher's record."""
    alert = store.get_alert(db, alert_id)
    if alert is None:
        raise BriefingError(f"alert #{alert_id} does not exist", "briefing_no_alert", id=alert_id)
    note = (note or "").strip() or None
    if note and len(note) > NOTE_MAX_CHARS:
        raise BriefingError(f"the assessment is {len(note)} characters; at most {NOTE_MAX_CHARS} fit a report",
                            "briefing_note_long", n=len(note), max=NOTE_MAX_CHARS)
    item = store.get_item(db, alert["item_id"]) if alert["item_id"] else None
    spread, reaction = _story(db, alert) if item is not None else (None, None)
    overview = _overview(db, alert, item, spread)
    first = (spread or {}).get("first_item") or {}
    if first.get("account"):  # a habit or a one-off? (the risk points' count of the same account)
        overview["first_record"] = record_text(account_record(db, first["platform"], first["account"], now, threshold))
    if item is None:
        overview["made_of"] = _made_of(db, alert, overview, rules or load_rules())
    return Briefing(alert_id=alert["id"], title=alert["title"] or "", generated_at=iso(now), overview=overview,
                    spread=spread, reaction=reaction, handling=_handling(db, alert, now), note=note)


# --- what the renderers print ---------------------------------------------------------------
# One list of blocks per section, so the Markdown, the HTML and the PDF print the same:
# ("lines", [str]), ("quote", str), ("table", title | None, head, rows), ("chart", png), ("empty", str).
# A table cell that is a (label, url) pair is a link.

def _or_none(value) -> str:
    return tr("none") if value in (None, "") else str(value)


def _rows_table(title: str | None, rows: list[dict]) -> tuple:
    if not rows:
        return ("empty", tr("rows.none", what=title))
    head = [tr(f"col.{c}") for c in ("rank", "at", "platform", "account", "content", "reactions", "likes", "link")]
    return ("table", title, head, [[r["rank"], _or_none(r["at"]), r["platform"], short_account(r["account"]),
                                    r["content"], f"{r['reactions']:,}", f"{r['likes']:,}", ("打开", r["url"])]
                                   for r in rows])


def _overview_blocks(b: Briefing) -> list[tuple]:
    o = b.overview
    lines = [tr("alert.line", severity=o["severity"], kind=o["kind"], status=o["status"])]
    item = o["item"]
    if item:
        lines.append(tr("alert.found", found=_or_none(o["found"]), first=_or_none(item["first"]),
                        platform=item["first_platform"], account=_or_none(item["first_account"])))
    else:
        lines.append(tr("alert.found.no_item", found=_or_none(o["found"])))
    if o.get("first_record"):
        lines.append(tr("alert.first_record", record=o["first_record"]))
    if o["reasons"]:
        lines.append(tr("alert.reasons", reasons="；".join(o["reasons"])))
    if o["topic"] or o["region"]:
        lines.append(tr("alert.topic", topic=_or_none(o["topic"]), region=_or_none(o["region"])))
    score = o["score"]
    if score and score["p"] is not None:
        lines.append(tr("alert.probability", p=f"{score['p']:.2f}", model=score["model"], n=score["reactions"]))
    if score and score["debunk_title"] and (score["debunk_score"] or 0) >= FAINT_SIMILARITY:
        lines.append(tr("alert.debunk", title=score["debunk_title"], score=f"{score['debunk_score'] or 0:.2f}",
                        flag=tr("alert.debunk.flag") if score["already_debunked"] else ""))
    if o["clarified"]:
        lines.append(tr("alert.clarified", url=_or_none(o["clarified"]["url"]), at=_or_none(o["clarified"]["at"])))
    if o["tips"]:
        lines.append(tr("alert.tips", n=o["tips"]["n"], last=_or_none(o["tips"]["last"]),
                        channels="、".join(f"{c} {n}" for c, n in o["tips"]["channels"].items())))
    blocks = [("lines", lines)]
    if item:
        blocks.append(("table", tr("alert.text"), [tr("col.at"), tr("col.platform"), tr("col.account"),
                                                    tr("col.content"), tr("col.link")],
                       [[_or_none(item["published"]), item["platform"], short_account(item["account"]),
                         (item["title"] + "：" if item["title"] else "") + item["text"], ("打开", item["url"])]]))
        if item.get("gist"):
            blocks.append(("lines", [tr("alert.gist", gist=item["gist"])]))
    return blocks


def _made_of_blocks(b: Briefing) -> list[tuple]:
    made = b.overview.get("made_of")
    m = b.overview["metrics"]
    if not made:
        return []
    if made["kind"] == "tag":
        line = tr("tag.line", tag=m["tag"], hours=f"{m['window_hours']:g}", stories=m["stories"],
                  accounts=m["accounts"], flagged=m["flagged"], before=m["before_stories"])
        return [("lines", [line]), _rows_table(tr("tag.items"), made["rows"])]
    if made["kind"] == "digest":
        line = tr("digest.line", keyword=m["keyword"], since=_or_none(beijing(m.get("window_start"))),
                  hours=f"{m.get('window_hours', 1):g}", after=m.get("digest_after"), n=m.get("stories"))
        return [("lines", [line]), _rows_table(tr("digest.items"), made["rows"])]
    label = "话题" if b.overview["topic"] else "地区"
    line = tr("spike.line", label=label, value=b.overview["topic"] or b.overview["region"],
              share=f"{100 * m.get('negative_share', 0):.1f}%", base=f"{100 * m.get('baseline_share', 0):.1f}%",
              n=m.get("items", 0))
    if made["kind"] == "spike_region":
        return [("lines", [line, tr("spike.region")])]
    return [("lines", [line]), _rows_table(tr("spike.items", hours=f"{made['hours']:g}"), made["rows"])]


def clarification_bin(b: Briefing) -> int | None:
    """The period of the story's timeline in which its clarification was published, if charted."""
    published = ((b.handling or {}).get("effect") or {}).get("published_at")
    timeline = (b.spread or {}).get("timeline") or {}
    if not published or not timeline.get("bins"):
        return None
    label = beijing(published, "%m-%d %H:00" if timeline["unit"] == "hour" else "%Y-%m-%d")
    return next((i for i, p in enumerate(timeline["bins"]) if p["at"] == label), None)


def timeline_chart_png(b: Briefing) -> bytes | None:
    """Items (bars) and reactions (line) per period of the story; None when it has no timeline."""
    timeline = (b.spread or {}).get("timeline") or {}
    bins = timeline.get("bins") or []
    if len(bins) < 2:
        return None
    plt = matplotlib_pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.0), dpi=150)
    x = list(range(len(bins)))
    ax.bar(x, [p["items"] for p in bins], color="#1565c0", width=0.8, label=tr("col.items"))
    ax.yaxis.set_major_locator(integer_ticks())
    ax.set_ylabel(tr("col.items"), color="#1565c0")
    ax.spines[["top"]].set_visible(False)
    if any(p["reactions"] for p in bins):  # reactions on their own scale, right (a story may have none yet)
        twin = ax.twinx()
        twin.plot(x, [p["reactions"] for p in bins], color="#c62828", linewidth=1.5, label=tr("col.new_reactions"))
        twin.yaxis.set_major_locator(integer_ticks())
        twin.set_ylim(bottom=0)
        twin.set_ylabel(tr("col.new_reactions"), color="#c62828")
        twin.spines[["top"]].set_visible(False)
    else:
        ax.spines[["right"]].set_visible(False)
    at = clarification_bin(b)
    if at is not None:  # where the clarification came out: what follows it is its effect section's "after"
        ax.axvline(at, color="#2e7d32", linestyle="--", linewidth=1.2)
        ax.annotate(tr("chart.clarified"), (at, 1), xycoords=("data", "axes fraction"), xytext=(3, -10),
                    textcoords="offset points", color="#2e7d32", fontsize=8)
    every = max(1, len(bins) // 12)
    ax.set_xticks(x[::every], [p["at"] for p in bins][::every], rotation=45, ha="right", fontsize=7)
    ax.set_title(tr("spread.chart", unit=tr(f"unit.{timeline['unit']}")), fontsize=11)
    fig.tight_layout()
    return png_bytes(fig, plt)


def _spread_blocks(b: Briefing, charts: bool) -> list[tuple]:
    s = b.spread
    if s is None:
        return _made_of_blocks(b)
    accounts = tr("spread.accounts", n=f"{s['accounts']:,}") if s["accounts"] else tr("spread.accounts.unknown")
    lines = [tr("spread.line", items=f"{s['items']:,}", accounts=accounts,
                platforms="、".join(f"{p} {n:,}" for p, n in s["platforms"].items())),
             tr("spread.time", first=_or_none(beijing(s["first_at"])), last=_or_none(beijing(s["last_at"])),
                span=_span_text(s["first_at"], s["last_at"])),
             tr("spread.engagement", reposts=f"{s['repost_num']:,}", comments=f"{s['comment_num']:,}",
                likes=f"{s['like_num']:,}")]
    kinds = s["reactions"]
    if kinds:
        lines.append(tr("spread.collected", n=f"{sum(kinds.values()):,}", reposts=f"{kinds.get('repost', 0):,}",
                        comments=f"{kinds.get('comment', 0):,}"))
    if s["peak"]:
        lines.append(tr("spread.peak", at=s["peak"]["at"], n=f"{s['peak']['reactions']:,}"))
    blocks = [("lines", lines)]
    timeline = s["timeline"]
    png = timeline_chart_png(b) if charts else None
    if png:
        blocks.append(("chart", png))
    if timeline["days_left_out"]:
        blocks.append(("empty", tr("spread.early_days", shown=len(timeline["bins"]), more=timeline["days_left_out"])))
    busy = [p for p in timeline["bins"] if p["items"] or p["reactions"]][-TIMELINE_ROWS:]
    if busy:
        blocks.append(("table", tr("spread.timeline", n=len(busy)),
                       [tr("col.period"), tr("col.items"), tr("col.new_reactions")],
                       [[p["at"], f"{p['items']:,}", f"{p['reactions']:,}"] for p in busy]))
    if s["top"]:
        blocks.append(_rows_table(tr("spread.top"), s["top"]))
    return blocks


def _reaction_blocks(b: Briefing) -> list[tuple]:
    r = b.reaction
    if r is None:
        return []
    lines = [tr("reaction.opinion", line=opinion_line(r["opinion"]))]
    if not r["n"]:
        return [("lines", lines + [tr("reaction.none")])]
    lines.append(tr("reaction.counts", n=f"{r['n']:,}", worded=f"{r['worded']:,}", doubt=f"{r['doubting']:,}",
                    share=_percent(r["doubting"], r["worded"])))
    head = [tr("col.at"), tr("col.kind"), tr("col.content")]
    if r.get("hot_words"):
        lines.append(tr("reaction.hot_words", words="、".join(r["hot_words"])))
    blocks = [("lines", lines)]
    for key, quotes in (("reaction.doubting", r["doubting_quotes"]), ("reaction.latest", r["latest_quotes"])):
        if quotes:
            blocks.append(("table", tr(key, n=len(quotes)), head,
                           [[_or_none(q["at"]), q["kind"], q["text"]] for q in quotes]))
    blocks.append(("empty", tr("reaction.note")))
    return blocks


def _handling_blocks(b: Briefing) -> list[tuple]:
    h = b.handling
    blocks = [("table", tr("handling.clocks"), [tr("col.clock"), tr("col.due"), tr("col.done"), tr("col.outcome")],
               [[c["clock"], _or_none(c["due"]), _or_none(c["done"]), c["outcome"]] for c in h["clocks"]])]
    if h["escalations"]:
        blocks.append(("lines", [tr("handling.escalated", at=e["at"], what=e["what"]) for e in h["escalations"]]))
    if h["assignments"]:
        blocks.append(("table", tr("handling.assignments"),
                       [tr("col.expert"), tr("col.status"), tr("col.assigned"), tr("col.due"), tr("col.note")],
                       [[a["expert"], a["status"], _or_none(a["assigned"]), _or_none(a["due"]), _or_none(a["note"])]
                        for a in h["assignments"]]))
    else:
        blocks.append(("lines", [tr("handling.assignments.none")]))
    if h.get("referrals"):  # (nor before referrals were kept)
        blocks.append(("table", tr("handling.referrals"),
                       [tr("col.unit"), tr("col.referred"), tr("col.due"), tr("col.status"), tr("col.reply")],
                       [[r["unit"], _or_none(r["referred"]), _or_none(r["due"]), r["status"], _or_none(r["reply"])]
                        for r in h["referrals"]]))
    if h.get("suggested"):
        blocks.append(("table", tr("handling.suggested"), [tr("col.expert"), tr("col.reasons")],
                       [[e["expert"], e["reasons"]] for e in h["suggested"]]))
    if h["clarifications"]:
        blocks.append(("table", tr("handling.clarifications"),
                       [tr("col.title"), tr("col.status"), tr("col.at"), tr("col.link")],
                       [[c["title"], c["status"], _or_none(c["at"]), ("打开", c["url"])] for c in h["clarifications"]]))
    else:
        blocks.append(("lines", [tr("handling.clarifications.none")]))
    e = h.get("effect")
    if e and e["before"] is not None:  # what followed the clarification, beside stories without one
        blocks.append(("table", tr("handling.effect", hours=f"{e['window']:g}"),
                       [tr("col.measure"), tr("col.before"), tr("col.after")],
                       [[tr("col.items"), e["before"]["items"], e["after"]["items"]],
                        [tr("col.new_reactions"), e["before"]["reactions"], e["after"]["reactions"]],
                        [tr("effect.doubt"), effect_pct(doubt_share(e["before"])), effect_pct(doubt_share(e["after"]))]]))
        blocks.append(("lines", [*e["lines"], EFFECT_CAVEAT]))
    if h["takedowns"]:
        blocks.append(("table", tr("handling.takedowns"),
                       [tr("col.platform"), tr("col.account"), tr("col.requested"), tr("col.status"),
                        tr("col.outcome_at"), tr("col.note")],
                       [[t["platform"], short_account(t["account"]), _or_none(t["requested"]), t["status"],
                         _or_none(t["outcome_at"]), _or_none(t["note"])] for t in h["takedowns"]]))
    blocks.append(("table", tr("handling.steps"), [tr("col.at"), tr("col.step"), tr("col.actor"), tr("col.note")],
                   [[_or_none(s["at"]), s["step"], s["actor"], _or_none(s["note"])] for s in h["steps"]]))
    return blocks


def sections(b: Briefing, charts: bool = True) -> list[tuple[str, list[tuple]]]:
    """The report's numbered sections, each a title and its blocks."""
    parts = [(tr("overview"), _overview_blocks(b)), (tr("spread"), _spread_blocks(b, charts))]
    if b.reaction is not None:
        parts.append((tr("reaction"), _reaction_blocks(b)))
    parts.append((tr("handling"), _handling_blocks(b)))
    if b.note:
        parts.append((tr("note"), [("quote", b.note)]))
    numerals = "一二三四五六七八九十"
    return [(f"{numerals[i]}、{title}", blocks) for i, (title, blocks) in enumerate(parts) if blocks]


def header(b: Briefing) -> tuple[str, str, str]:
    """Title, subtitle and the generated-at line."""
    return (tr("title"), tr("subtitle", id=b.alert_id, title=b.title or tr("none")),
            tr("generated", time=beijing(b.generated_at, "%Y-%m-%d %H:%M")))


# --- Markdown, HTML, PDF --------------------------------------------------------------------

def render_markdown(b: Briefing) -> str:
    title, subtitle, generated = header(b)
    return markdown_document(title, subtitle, [generated], sections(b, charts=False), tr("footer"))


HTML_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }} {{ subtitle }}</title>
<style>
{{ css }}
blockquote { margin: 6px 0; padding: 6px 12px; border-left: 4px solid #b71c1c; background: #fdf3f2;
             white-space: pre-wrap; }
</style></head>
<body>
<header>
  <h1>{{ title }}</h1>
  <div class="period">{{ subtitle }}</div>
  {% for note in notes %}<div class="meta">{{ note }}</div>{% endfor %}
</header>
{% for name, blocks in sections %}
<section>
<h2>{{ name }}</h2>
{% for block in blocks %}
{% if block[0] == "lines" %}<ul>{% for line in block[1] %}<li>{{ line }}</li>{% endfor %}</ul>
{% elif block[0] == "lead" %}<p><strong>{{ block[1] }}</strong></p>
{% elif block[0] == "empty" %}<p class="empty">{{ block[1] }}</p>
{% elif block[0] == "quote" %}<blockquote>{{ block[1] }}</blockquote>
{% elif block[0] == "chart" %}<img class="chart" alt="{{ chart_alt }}" src="data:image/png;base64,{{ block[1] | b64 }}">
{% if block | length > 2 and block[2] %}<p class="meta">{{ block[2] }}</p>{% endif %}
{% elif block[0] == "table" %}{% if block[1] %}<h3>{{ block[1] }}</h3>{% endif %}
<table><thead><tr>{% for h in block[2] %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in block[3] %}<tr>{% for c in row %}{% if c is link %}<td class="nowrap">{% if c[1] %}<a href="{{ c[1] }}">{{ c[0] }}</a>{% else %}—{% endif %}</td>{% else %}<td{% if c | cell_class %} class="{{ c | cell_class }}"{% endif %}>{{ c }}</td>{% endif %}{% endfor %}</tr>
{% endfor %}</tbody></table>
{% endif %}
{% endfor %}
</section>
{% endfor %}
<footer>{{ footer }}</footer>
</body></html>
"""


_TIME_CELL = re.compile(r"^(\d{4}-)?\d\d-\d\d( \d\d:\d\d)?$")
_NUMBER_CELL = re.compile(r"^[+\-]?[\d,]+(\.\d+)?%?$")


def cell_class(value) -> str | None:
    """Times do not wrap; counts and shares are right-aligned."""
    if isinstance(value, int) and not isinstance(value, bool) or _NUMBER_CELL.match(str(value)):
        return "num"
    return "nowrap" if _TIME_CELL.match(str(value)) else None


def html_document(title: str, subtitle: str, notes: list[str], parts: list[tuple[str, list[tuple]]], footer: str,
                  chart_alt: str = "") -> str:
    """One self-contained page of numbered sections and their blocks (a special report's, an
    assessment's): the reports' CSS inline, charts as base64 PNG, every data string escaped."""
    from jinja2 import Environment
    from markupsafe import Markup

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.tests["link"] = lambda v: isinstance(v, tuple)
    env.filters["cell_class"] = cell_class
    env.filters["b64"] = lambda png: base64.b64encode(png).decode("ascii")
    return env.from_string(HTML_TEMPLATE).render(css=Markup(REPORT_CSS), title=title, subtitle=subtitle, notes=notes,
                                                 sections=parts, chart_alt=chart_alt, footer=footer)


def render_html(b: Briefing, charts: bool = True) -> str:
    """The special report as one self-contained page (`html_document`)."""
    title, subtitle, generated = header(b)
    return html_document(title, subtitle, [generated], sections(b, charts), tr("footer"),
                         chart_alt=tr("spread.chart", unit=""))


def render_docx(b: Briefing, output: str | Path) -> Path:
    """The special report as a Word document (`wordfile`: 公文 layout), for the office to edit."""
    from .wordfile import write_docx

    title, subtitle, generated = header(b)
    return write_docx(output, title, subtitle, [generated], sections(b), tr("footer"), parse_time(b.generated_at))


def render(b: Briefing, fmt: str, output: str | Path) -> Path:
    """Write the special report in `fmt` (html, pdf, docx, md) to `output`."""
    return write_document(fmt, output, lambda: render_html(b), lambda: render_markdown(b),
                          lambda out: render_docx(b, out))


def to_bytes(b: Briefing, fmt: str) -> bytes:
    """The report as the bytes of a download (PDF through headless Chromium, a few seconds)."""
    return document_bytes(lambda f, out: render(b, f, out), fmt)


def default_filename(b: Briefing, fmt: str) -> str:
    day = beijing(b.generated_at, "%Y%m%d%H%M")
    return f"舆情专报_预警{b.alert_id}_{day}.{fmt}".replace("/", "_")



# --- sending it to the leaders --------------------------------------------------------------

def mail_text(b: Briefing) -> tuple[str, str]:
    """The mail's subject and body: the report's key figures, the PDF and Word files attached carry the rest."""
    o, s, r = b.overview, b.spread, b.reaction
    lines = [tr("subtitle", id=b.alert_id, title=clip(b.title, 60)),
             tr("alert.line", severity=o["severity"], kind=o["kind"], status=o["status"])]
    if s:
        lines.append(tr("spread.line", items=f"{s['items']:,}",
                        accounts=tr("spread.accounts", n=f"{s['accounts']:,}") if s["accounts"]
                        else tr("spread.accounts.unknown"),
                        platforms="、".join(f"{p} {n:,}" for p, n in s["platforms"].items())))
    if r and r["worded"]:
        lines.append(tr("mail.doubt", doubt=f"{r['doubting']:,}", worded=f"{r['worded']:,}",
                        share=_percent(r["doubting"], r["worded"])))
    for c in b.handling["clocks"]:
        if c["due"]:
            lines.append(f"{c['clock']}：{c['outcome']}（截止 {c['due']}）")
    if b.note:
        lines.append(f"{tr('note')}：{b.note}")
    lines.append(tr("mail.attached"))
    return tr("mail.subject", id=b.alert_id, severity=o["severity"], title=clip(b.title, 30)), "\n".join(lines)


def send_briefing(db, alert_id: int, actor: str, now: datetime, note: str | None = None,
                  rules: dict | None = None, to: tuple[str, ...] | list[str] = (), threshold: float = 0.5) -> dict:
    """Mail the special report (PDF and Word attached) to the leaders (`to`, else notify.leader_emails of the
    rules) and record it as a step of the alert, audited: who sent it, when, to whom.

    Returns {"sent": [address], "failed": [(address, reason)]}. A mailbox that refused is named in
    the step; when any did, BriefingError says which after the step is recorded, so the ones reached
    are never sent twice by mistake and the failure is not lost."""
    import tempfile

    from .notify import DeliveryError, send_email

    rules = rules or load_rules()
    recipients = list(dict.fromkeys(a.strip() for a in (to or rules["notify"]["leader_emails"]) if a.strip()))
    if not recipients:
        raise BriefingError("no leader's e-mail address to send the report to: set notify.leader_emails in the "
                            "alert rules (预警规则 page) or give --to", "briefing_no_recipients")
    b = compute_briefing(db, alert_id, now, note, rules, threshold)
    subject, body = mail_text(b)
    sent, failed = [], []
    with tempfile.TemporaryDirectory(prefix="rw-briefing-") as tmp:
        # the PDF to read, the Word file for the office to edit into its own 专报
        files = [render(b, fmt, Path(tmp) / default_filename(b, fmt)) for fmt in ("pdf", "docx")]
        for address in recipients:
            try:
                send_email(rules["notify"], address, subject, body, files)
                sent.append(address)
            except DeliveryError as exc:
                failed.append((address, str(exc)))
    at = iso(now)
    step_note = tr("step.sent", to="、".join(sent) or tr("none")) + "".join(
        tr("step.failed", to=a, reason=why) for a, why in failed)
    with store.transaction(db):
        store.add_alert_step(db, alert_id, "briefing_sent" if sent else "briefing_failed", at, actor, step_note)
        store.record_audit(db, actor, "alert.briefing_sent", "alert", alert_id,
                           {"sent": sent, "failed": [a for a, _ in failed], "note": b.note}, at=at)
    if failed:
        raise BriefingError(f"special report on alert #{alert_id} sent to {len(sent)} of {len(recipients)}; "
                            + "; ".join(f"{a}: {why}" for a, why in failed), "briefing_undelivered",
                            sent=len(sent), total=len(recipients), failed="、".join(a for a, _ in failed))
    return {"sent": sent, "failed": failed}
