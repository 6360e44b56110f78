"""Validate and normalise raw records into media items and reactions; dedupe; group near-duplicates.

Ingest is idempotent: the same item twice is one row (a re-fetch only updates engagement and adds
reactions not seen before). A record that cannot become an item is set aside in `rejects` with its
reason; it never stops the batch.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from . import cluster, store
from .ads import AD_FLAG, is_ad
from .clarifiers import CLARIFICATION_FLAG, is_clarifier
from .errors import RecordError
from .records import iso, json_type, parse_time
from .sources.base import RawItem, RawReaction, RawReject
from .trending import tags_of

# Items longer than this are refused outright (a 1 MB post is kept; 4 MB is not a post).
MAX_STORED_CHARS = 2_000_000
FUTURE_TOLERANCE = timedelta(minutes=10)
DEFAULT_PLATFORM = "未知"

# Characters that change how text renders or hide content: zero-width and bidi controls.
# Zero-width and bidi controls, soft hyphens, and control characters other than tab and newline.
_HIDDEN = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff\u00ad"
                     "\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[ \t\u3000\xa0]+")
_BLANK_LINES = re.compile(r"\n{3,}")


def normalise_text(text: str) -> str:
    """NFC, no control/invisible/bidi characters, collapsed spaces. Meaning is kept."""
    if text.isascii() and text.isprintable() and "  " not in text:
        return text.strip()  # ids, urls, account names: nothing below would change them
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    text = _HIDDEN.sub("", text)
    text = _SPACES.sub(" ", text)
    if "\n\n\n" in text:
        text = _BLANK_LINES.sub("\n\n", text)
    return text.strip()


def _hash(cluster_text: str) -> str:
    """The content hash: of the text as copies share it (`cluster.cluster_text`)."""
    return hashlib.sha1(cluster_text.encode("utf-8")).hexdigest()


def _int(record: dict, key: str) -> int:
    value = record.get(key)
    if value in (None, ""):
        return 0
    try:
        n = int(float(value))
    except (TypeError, ValueError, OverflowError):  # OverflowError: infinity
        raise RecordError(f"{key} must be a whole number, got {value!r}", "record_not_whole_number", field=key,
                          value=value) from None
    if n < 0 or n >= 2 ** 63:  # beyond 2**63 SQLite cannot store it
        raise RecordError(f"{key} must be between 0 and 2^63, got {n}", "record_count_range", field=key, value=n)
    return n


def _str(record: dict, key: str, limit: int = 2000) -> str | None:
    value = record.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (dict, list)):
        raise RecordError(f"{key} must be text, got {type(value).__name__}", "record_field_not_text", field=key,
                          json_type=json_type(value))
    return normalise_text(str(value))[:limit] or None


@dataclass
class NormalisedItem:
    row: dict
    reactions: list[dict] = field(default_factory=list)
    cluster_text: str = ""  # what the MinHash signature is made of (cluster.compared)
    body: bool = False  # whether that is the text's body alone, without its #topic# tags (cluster.compared)


def normalise_item(record: dict, source: str, now: datetime) -> NormalisedItem:
    """Turn a raw item dict into a store row plus its inline reactions, or raise RecordError."""
    if not isinstance(record, dict):
        raise RecordError(f"a record must be a JSON object, got {type(record).__name__}", "record_not_object",
                          json_type=json_type(record))
    raw_text = record.get("text")
    if raw_text is not None and not isinstance(raw_text, str):
        raise RecordError(f"text must be a string, got {type(raw_text).__name__}", "record_text_type",
                          json_type=json_type(raw_text))
    title = _str(record, "title", 1000)
    text = normalise_text(raw_text or "")
    if not text and title:
        text = title  # feeds often carry only a headline
    if not text:
        raise RecordError("empty text: the record has no text or title to assess", "record_empty_text")
    if len(text) > MAX_STORED_CHARS:
        raise RecordError(f"text is {len(text):,} characters, over the limit of {MAX_STORED_CHARS:,}",
                          "record_text_too_long", length=f"{len(text):,}", limit=f"{MAX_STORED_CHARS:,}")

    flags = []
    fetched_at = iso(now)
    published = parse_time(record.get("date") or record.get("published_at"))
    claimed = None
    if published is None:
        flags.append("missing_time")
        published = now
    elif published > now + FUTURE_TOLERANCE:
        # A clock or time-zone error at the source: keep the claim, place the item at fetch time.
        flags.append("future_time")
        claimed = iso(published)
        published = now
    original = parse_time(record.get("original_date"))

    platform = _str(record, "platform", 100) or DEFAULT_PLATFORM
    url = _str(record, "url", 2000)
    account = _str(record, "account", 200) or _str(record, "user_id", 200)
    author = _str(record, "author", 200)
    if not author and not account:
        flags.append("missing_author")
    if not url and platform == DEFAULT_PLATFORM:
        flags.append("missing_source")
    if len(text) > 20_000:
        flags.append("very_long")
    if is_ad(text):  # selling, not claiming: kept, but out of the rumour list and rumour alerts
        flags.append(AD_FLAG)
    if is_clarifier(platform, account):  # refuting a claim, not making it: likewise
        flags.append(CLARIFICATION_FLAG)
    compared, body = cluster.compared(text)  # as copies share the text: for the signature
    shared = compared if len(text) <= cluster.MAX_CHARS else cluster.cluster_text(text)  # and the hash
    external_id = _str(record, "id", 500) or url or _hash(shared)

    user = record.get("user") if isinstance(record.get("user"), dict) else None
    extra = {k: record[k] for k in ("has_url", "pics", "has_pic", "has_video", "source", "label")
             if k in record and isinstance(record[k], (str, int, float, bool))}
    row = {
        "platform": platform, "external_id": external_id, "url": url, "account": account,
        "author": author, "published_at": iso(published), "published_day": store.china_day(published),
        "original_published_at": iso(original), "claimed_published_at": claimed,
        "fetched_at": fetched_at, "updated_at": fetched_at, "title": title, "text": text,
        "text_length": len(raw_text or text), "repost_num": _int(record, "repost_num"),
        "comment_num": _int(record, "comment_num"), "like_num": _int(record, "like_num"),
        "content_hash": _hash(shared), "cluster_id": None, "source": source,
        "user_json": json.dumps(user, ensure_ascii=False) if user else None,
        "extra_json": json.dumps(extra, ensure_ascii=False) if extra else None,
        "quality_flags": json.dumps(flags) if flags else None,
    }
    reactions = []
    for key, kind in (("reposts", "repost"), ("comments", "comment")):
        values = record.get(key) or []
        if not isinstance(values, list):
            raise RecordError(f"{key} must be a list of {{date, text}} objects", "record_reactions_not_list",
                              list=key)
        for i, r in enumerate(values):
            try:
                reactions.append(normalise_reaction(r, kind, fetched_at))
            except RecordError as exc:
                raise RecordError(f"{key}[{i}]: {exc}", "record_reaction_entry", list=key, n=i + 1,
                                  reason=exc.as_reason()) from None
    return NormalisedItem(row, reactions, compared, body)


def normalise_reaction(r: dict, kind: str, fetched_at: str) -> dict:
    if not isinstance(r, dict):
        raise RecordError("a reaction must be an object with date and text", "reaction_not_object")
    if kind not in ("repost", "comment"):
        raise RecordError(f"reaction kind must be repost or comment, got {kind!r}", "reaction_kind", value=kind)
    text = r.get("text") or ""
    if not isinstance(text, str):
        raise RecordError("reaction text must be a string", "reaction_text_type")
    text = normalise_text(text)[:5000]
    at = iso(parse_time(r.get("date")))
    original = iso(parse_time(r.get("original_date")))
    user_id = None if r.get("user_id") is None else str(r.get("user_id"))[:200]
    key = hashlib.sha1(f"{kind}|{original or at}|{user_id}|{text}".encode("utf-8")).hexdigest()[:20]
    return {"kind": kind, "at": at, "original_at": original, "text": text, "user_id": user_id,
            "dedupe_key": key, "fetched_at": fetched_at}


@dataclass
class IngestResult:
    new_items: int = 0
    updated_items: int = 0
    new_reactions: int = 0
    rejects: int = 0
    touched: set = field(default_factory=set)  # item ids whose score is stale

    def add(self, other: "IngestResult") -> None:
        self.new_items += other.new_items
        self.updated_items += other.updated_items
        self.new_reactions += other.new_reactions
        self.rejects += other.rejects
        self.touched |= other.touched


def sign(items: list[NormalisedItem]) -> list[cluster.Signed | None]:
    """The items' texts signed for clustering (`cluster.sign`), None for a text too short to compare."""
    return cluster.sign([(item.cluster_text, item.body) for item in items])


class BatchClusters:
    """Groups a batch's new items into clusters of near-duplicates.

    The stored clusters that the batch's MinHash bands point to are read in one query, with the
    first texts of those found for a text long enough for containment; each new item is then
    matched in arrival order, in memory, against them and against the clusters the batch has made
    so far (copies within one batch join each other), and `save` writes it all at the end of the
    batch, one statement per table."""

    def __init__(self, db, signed, threshold: float):
        """`signed`: the batch's signed texts, from `sign`."""
        self.db = db
        signed = [s for s in signed if s is not None]
        by_band, signatures, retellings = store.clusters_by_band(db, [key for s in signed for key in s.keys])
        self.index = cluster.NearDuplicates(threshold, by_band, signatures, store.next_cluster_id(db),
                                            retellings=retellings, band_clusters=cluster.MAX_BAND_CLUSTERS)
        # First texts only of the clusters a text may be compared with: those its bands still point to
        # once a boilerplate band is cut to its newest MAX_BAND_CLUSTERS (a store from before the cut
        # has bands of over a thousand clusters).
        contained = {cid for s in signed if s.text is not None for key in s.keys
                     for cid in self.index.by_band.get(key, ())}
        self.index.first_texts.update(store.cluster_first_texts(db, contained, cluster.MAX_CHARS))
        self.created: dict[int, dict] = {}
        self.bands: list[tuple[str, int]] = []
        self.grown: dict[int, tuple[int, str]] = {}
        self.retold: list[tuple[int, bytes]] = []

    def assign(self, signed: cluster.Signed | None, at: str) -> int | None:
        """The cluster for an item signed by `sign`, published at `at` (None: too short to compare).
        A new cluster's representative is set by `represent` once the item has its id."""
        if signed is None:
            return None
        best, kind, keys = self.index.match(signed)
        self.bands += [(key, best) for key in keys]
        if kind == "retold":
            self.retold.append((best, cluster.to_blob(signed.signature)))
        if kind == "new":
            self.created[best] = {"id": best, "created_at": at, "representative_item_id": None, "item_count": 1,
                                  "last_item_at": at, "signature": self.index.signatures[best]}
        elif best in self.created:
            row = self.created[best]
            row["item_count"] += 1
            row["last_item_at"] = max(row["last_item_at"], at)
        else:
            n, last = self.grown.get(best, (0, at))
            self.grown[best] = (n + 1, max(last, at))
        return best

    def represent(self, cluster_id: int | None, item_id: int) -> None:
        """The first item of a cluster made in this batch represents it."""
        row = self.created.get(cluster_id)
        if row is not None and row["representative_item_id"] is None:
            row["representative_item_id"] = item_id

    def save(self) -> None:
        store.save_clusters(self.db, list(self.created.values()), self.bands, self.grown, self.retold)
        self.created, self.bands, self.grown, self.retold = {}, [], {}, []


def ingest_item(db, record: dict, source: str, now: datetime, cluster_threshold: float = 0.8,
                known: dict | None = None, clusters: BatchClusters | None = None,
                signed=None, own_channels: set | None = None) -> IngestResult:
    """Insert or refresh one item and its inline reactions. Raises RecordError for bad records.

    `known` ({(platform, external_id): item id}, looked up for a whole batch by `ingest_events`)
    saves one query per item; an item inserted here is added to it. `clusters` (with the item's
    `signed` from `sign`) is the batch's clustering, which the caller saves; without it the item
    is clustered and saved at once. `own_channels` ((platform, account) of the office's own
    channels, rumourwatch.ownmedia) flags a new item of theirs as the office's own publishing."""
    item = record if isinstance(record, NormalisedItem) else normalise_item(record, source, now)
    row = item.row
    result = IngestResult()
    key = (row["platform"], row["external_id"])
    if known is None:
        found = store.find_item(db, *key)
        item_id = found["id"] if found else None
    else:
        item_id = known.get(key)
    if item_id is not None:
        store.refresh_item(db, item_id, row["repost_num"], row["comment_num"], row["like_num"], row["fetched_at"])
        result.updated_items = 1
    else:
        own = clusters is None
        if own:
            signed = sign([item])[0]
            clusters = BatchClusters(db, [signed], cluster_threshold)
        row["cluster_id"] = clusters.assign(signed, row["published_at"])
        if own_channels and (row["platform"], row["account"]) in own_channels:
            row["quality_flags"] = json.dumps([*json.loads(row["quality_flags"] or "[]"), store.OWN_CHANNEL_FLAG])
        item_id = store.insert_item(db, row)
        if "#" in (row["text"] or ""):  # its hashtags, read once (话题热度, the reports' hot tags)
            store.insert_item_tags(db, [(item_id, tag, row["published_at"]) for tag in tags_of(row["text"])])
        clusters.represent(row["cluster_id"], item_id)
        if own:
            clusters.save()
        if known is not None:
            known[key] = item_id
        result.new_items = 1
        result.touched.add(item_id)
    added = store.insert_reactions(db, item_id, item.reactions)
    result.new_reactions = added
    if added:
        result.touched.add(item_id)
    return result


def ingest_reaction(db, record: dict, now: datetime) -> IngestResult:
    """Attach a reaction that arrived after its item. Raises RecordError if the item is unknown."""
    if not isinstance(record, dict):
        raise RecordError("a reaction record must be a JSON object", "reaction_record_not_object",
                          json_type=json_type(record))
    item_key = record.get("item_id")
    if item_key in (None, ""):
        raise RecordError("reaction has no item_id", "reaction_no_item")
    platform = _str(record, "platform", 100) or DEFAULT_PLATFORM
    found = store.find_item(db, platform, str(item_key))
    if not found:
        raise RecordError(f"reaction for unknown item {platform}/{item_key}", "reaction_unknown_item",
                          platform=platform, item=item_key)
    reaction = normalise_reaction(record, record.get("kind") or "comment", iso(now))
    added = store.insert_reactions(db, found["id"], [reaction])
    return IngestResult(new_reactions=added, touched={found["id"]} if added else set())


def _raw_text(record) -> str:
    try:
        return json.dumps(record, ensure_ascii=False, default=str)[:100_000]
    except (TypeError, ValueError):
        return repr(record)[:100_000]


def ingest_events(db, events, source: str, now: datetime, cluster_threshold: float = 0.8) -> IngestResult:
    """Ingest a batch of source events (inside the caller's transaction). Bad ones become rejects."""
    total = IngestResult()
    events = list(events)
    # Normalise the batch's items first, so their stored ids are looked up in one query.
    normalised: dict[int, NormalisedItem | RecordError] = {}
    for i, event in enumerate(events):
        if isinstance(event, RawItem):
            try:
                normalised[i] = normalise_item(event.record, source, now)
            except RecordError as exc:
                normalised[i] = exc
    known = store.find_item_ids(db, [(n.row["platform"], n.row["external_id"]) for n in normalised.values()
                                     if isinstance(n, NormalisedItem)])
    # Signatures of the items not stored yet, all at once; their clusters are written with the batch.
    fresh = [i for i, n in normalised.items()
             if isinstance(n, NormalisedItem) and (n.row["platform"], n.row["external_id"]) not in known]
    signed = dict(zip(fresh, sign([normalised[i] for i in fresh])))
    clusters = BatchClusters(db, signed.values(), cluster_threshold)
    own_channels = store.own_channel_keys(db) if fresh else None
    for i, event in enumerate(events):
        if isinstance(event, RawReject):
            store.add_reject(db, source, event.reason, event.raw, event.origin, event.position, event.key, event.params)
            total.rejects += 1
            continue
        try:
            if isinstance(event, RawItem):
                item = normalised[i]
                if isinstance(item, RecordError):
                    raise item
                total.add(ingest_item(db, item, source, now, cluster_threshold, known, clusters,
                                      signed.get(i), own_channels))
            elif isinstance(event, RawReaction):
                total.add(ingest_reaction(db, event.record, now))
            else:
                raise RecordError(f"unknown event type {type(event).__name__}", "record_unknown_event",
                                  value=type(event).__name__)
        except RecordError as exc:
            store.add_reject(db, source, str(exc), _raw_text(getattr(event, "record", event)),
                             getattr(event, "origin", ""), getattr(event, "position", None), exc.key, exc.params)
            total.rejects += 1
    clusters.save()
    return total
