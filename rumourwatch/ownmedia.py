"""政务新媒体: the office's own channels — its and its units' Weibo, WeChat public accounts, Douyin,
video accounts, Toutiao and websites — and what their posts reached.

Seed 001 (Jilin, 二、五要): "进一步加强各级卫生健康部门官方网站和政务新媒体建设，持续扩大……微博、微信、
抖音和头条号的社会影响力"; seed 002 (Jincheng, 三、四(一)) divides the work between its website, public
account, Douyin and video accounts (宣传矩阵); seed 000 (三)3 asks for a 新媒体矩阵 of health science,
and (四)2 to "加强健康科普知识监测与评估，推广科学性强、传播效果好的健康科普作品", and (二)1 to answer
what the public is concerned about in time ("对公众关注或急需解决的热点、重点问题，要及时进行解读或回应").

The office registers each channel as the feed's items carry it (platform and account). Their posts
are then its own publishing: for a period, each channel's posts and the platforms' counts of their
reposts, comments and likes (互动) against the period before; the posts that spread most (to promote);
and the Healthy China topics the feed talked about (its health items, negative and flagged) against
the office's own posts on each — a topic with CONCERN_MIN_ITEMS items or more and no post of the
office's is one the public talked about and the office did not answer. A channel registered by
mistake, or no longer the office's, is removed with the reason (kept, no longer counted). Audited.

The channels' posts are the office's own publishing, not claims to check: its debunks quote the
rumour they answer, as a debunk platform's do. They are flagged (store.OWN_CHANNEL_FLAG) when the
channel is registered and as they arrive, and left out of the likeliest rumours, the rumour alerts
and the risk points, as the debunk platforms' posts are; the flag is taken off when it is removed.

    figures(db, start, end, threshold, previous_start=…)   # a period's figures against the one before
"""

from __future__ import annotations

from datetime import datetime

from . import store
from .alerts import WorkflowError
from .experts import TOPICS
from .records import iso
from .source_config import PLATFORMS as FEED_PLATFORMS

# where an office publishes, offered first; a feed may name a platform otherwise (its items' own name counts)
PLATFORMS = tuple(p for p in FEED_PLATFORMS if p not in ("新闻", "举报线索"))
NAME_MAX, PLATFORM_MAX, ACCOUNT_MAX, NOTE_MAX, REASON_MAX = 40, 100, 200, 200, 200
TOP_WORKS = 10            # the posts that spread most, listed to promote
CONCERN_MIN_ITEMS = 20    # a topic the feed talked about this much in the period, and no post of the office's


def _text(value, limit: int, field: str) -> str | None:
    text = (value or "").strip()
    if len(text) > limit:
        raise WorkflowError(f"the channel's {field} has {len(text)} characters; at most {limit}",
                            "ownmedia_text_long", ownmedia_field=field, n=len(text), max=limit)
    return text or None


def add(db, *, platform: str, account: str, name: str, actor: str, now: datetime, unit_id: int | None = None,
        note: str | None = None) -> dict:
    """Register one of the office's channels: `platform` and `account` as the feed's items of it
    carry them (PLATFORMS are those an office publishes on; a feed may name one otherwise), `name` as
    people call it. WorkflowError, and nothing written, when the platform, the account or the name is
    missing or too long, the unit unknown, or the channel registered already. Returns the stored
    row, with `items`: how many of its items the store holds now (none: the account id may be wrong,
    or nothing of it collected yet)."""
    platform = _text(platform, PLATFORM_MAX, "platform")
    if not platform:
        raise WorkflowError("a channel needs its platform, as the feed's items carry it", "ownmedia_platform_missing")
    account = _text(account, ACCOUNT_MAX, "account")
    if not account:
        raise WorkflowError("a channel needs its account, as the feed's items carry it", "ownmedia_account_missing")
    name = _text(name, NAME_MAX, "name")
    if not name:
        raise WorkflowError("a channel needs its name", "ownmedia_name_missing")
    note = _text(note, NOTE_MAX, "note")
    if unit_id is not None and store.get_unit(db, unit_id) is None:
        raise WorkflowError(f"no unit #{unit_id}", "ownmedia_unit_missing", id=unit_id)
    if store.find_own_account(db, platform, account):
        raise WorkflowError(f"{platform} account {account!r} is registered already", "ownmedia_taken",
                            platform=platform, account=account)
    at = iso(now)
    with store.transaction(db):
        account_id = store.insert_own_account(db, {"platform": platform, "account": account, "name": name,
                                                   "unit_id": unit_id, "note": note, "added_by": actor,
                                                   "added_at": at})
        flagged = store.mark_own_channel(db, platform, account, True)
        store.record_audit(db, actor, "ownmedia.add", "own_account", account_id,
                           {"platform": platform, "account": account, "name": name, "unit_id": unit_id,
                            "items": flagged}, at=at)
    return {**store.get_own_account(db, account_id), "items": store.account_item_count(db, platform, account)}


def remove(db, account_id: int, *, reason: str, actor: str, now: datetime) -> dict:
    """Take a channel off the register (kept with the reason; its posts no longer counted)."""
    found = store.get_own_account(db, account_id)
    if found is None or found["removed_at"]:
        raise WorkflowError(f"no registered channel #{account_id} to remove", "ownmedia_missing", id=account_id)
    reason = _text(reason, REASON_MAX, "reason")
    if not reason:
        raise WorkflowError("removing a channel needs the reason", "ownmedia_reason_missing")
    at = iso(now)
    with store.transaction(db):
        store.update_own_account(db, account_id, removed_by=actor, removed_at=at, remove_reason=reason)
        store.mark_own_channel(db, found["platform"], found["account"], False)
        store.record_audit(db, actor, "ownmedia.remove", "own_account", account_id,
                           {"platform": found["platform"], "account": found["account"], "name": found["name"],
                            "reason": reason}, at=at)
    return store.get_own_account(db, account_id)


def _reach(row: dict | None) -> dict:
    row = row or {}
    counts = {k: row.get(k, 0) for k in ("posts", "health", "reposts", "comments", "likes")}
    return {**counts, "engagement": counts["reposts"] + counts["comments"] + counts["likes"]}


def figures(db, start: str, end: str, threshold: float, *, previous_start: str,
            platforms: list[str] | None = None) -> dict:
    """The registered channels' publishing in [start, end) (UTC ISO) against [previous_start, start):
    `accounts`, each channel with its posts, health posts, reposts, comments, likes, `engagement`
    (the three together), `per_post` and the same of the period before (`previous`); the totals
    (`total`, `previous`); `top`, the TOP_WORKS posts that spread most, each with its channel's
    `name`; `topics`, for each Healthy China topic the feed's health items on it (advertisements,
    debunk platforms' posts and the channels' own left out, as the risk points count them), their negative and flagged ones
    (rumour probability ≥ threshold) and the office's own posts, the most talked-about first;
    `unanswered`, those topics with CONCERN_MIN_ITEMS items or more and no post of the office's, the
    most flagged first; `days`, the posts and their reactions per China day (the days with posts). `platforms` keeps the channels on those only. Empty lists without channels."""
    kept = [a for a in store.list_own_accounts(db) if not platforms or a["platform"] in platforms]
    pairs = [(a["platform"], a["account"]) for a in kept]
    now_rows = {(r["platform"], r["account"]): r for r in store.own_account_counts(db, pairs, start, end)}
    before_rows = {(r["platform"], r["account"]): r for r in store.own_account_counts(db, pairs, previous_start, start)}
    accounts = []
    for a in kept:
        reach, before = _reach(now_rows.get((a["platform"], a["account"]))), \
            _reach(before_rows.get((a["platform"], a["account"])))
        accounts.append({"id": a["id"], "platform": a["platform"], "account": a["account"], "name": a["name"],
                         "unit": a["unit_name"], **reach,
                         "per_post": round(reach["engagement"] / reach["posts"], 1) if reach["posts"] else None,
                         "previous": before})
    total = {k: sum(a[k] for a in accounts) for k in ("posts", "health", "reposts", "comments", "likes", "engagement")}
    previous = {k: sum(a["previous"][k] for a in accounts) for k in ("posts", "engagement")}
    names = {(a["platform"], a["account"]): a["name"] for a in kept}
    top = [{**r, "name": names[(r["platform"], r["account"])]}
           for r in store.own_account_items(db, pairs, start, end, TOP_WORKS)]
    topics = []
    if kept:
        own = store.own_account_topics(db, pairs, start, end)
        feed = {r["topic"]: r for r in store.topic_counts(db, start, end, threshold)}
        for topic in TOPICS:
            r = feed.get(topic) or {}
            topics.append({"topic": topic, "items": r.get("items", 0), "negative": r.get("negative", 0),
                           "flagged": r.get("flagged", 0), "own": own.get(topic, 0)})
        topics.sort(key=lambda r: (-r["items"], -r["flagged"], r["topic"]))
    unanswered = sorted((r for r in topics if r["own"] == 0 and r["items"] >= CONCERN_MIN_ITEMS),
                        key=lambda r: (-r["flagged"], -r["items"], r["topic"]))
    return {"accounts": accounts, "total": total, "previous": previous, "top": top, "topics": topics,
            "unanswered": [r["topic"] for r in unanswered], "days": store.own_account_days(db, pairs, start, end)}


def posts_between(db, start: str, end: str, limit: int = 5) -> list[dict]:
    """The channels' newest `limit` posts published in [start, end) (UTC ISO), each with its
    channel's `name`: what the office published on an alert's story since it began, for the monitor
    to record as the alert's released information at the post's own time."""
    kept = store.list_own_accounts(db)
    names = {(a["platform"], a["account"]): a["name"] for a in kept}
    return [{**r, "name": names[(r["platform"], r["account"])]}
            for r in store.own_account_items(db, list(names), start, end, limit, by="newest")]
