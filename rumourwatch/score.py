"""Items → scores: rumour probability, polarity, health relevance, topic, already-debunked match.

Live scoring gives each item the score of everything known now (its text and the reactions stored
so far); the worker re-scores an item whenever new reactions arrive. `score_file` is the batch
contract analysts and evaluators use:

    rumourwatch score-file INPUT -o OUTPUT [--as-of-hours H]
"""

from __future__ import annotations

import gzip
import io
import json
import math
import re
import threading
import zlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Iterator

import numpy as np

from . import store
from .errors import RecordError
from .language import LANGUAGE_NAMES, unread_language
from .records import Doc, Reaction, doc_from_bundle, iso, parse_time

BATCH = 512
MAX_AS_OF_HOURS = 24 * 365 * 100  # a century of reactions: beyond it, "all" (omit the option) is meant


def _json_or_none(text: str | None):
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def doc_from_row(row: dict) -> Doc:
    """A Doc from a stored item and its reactions (all known now)."""
    reactions = [Reaction(r["kind"], r["text"] or "", parse_time(r["at"]), r.get("user_id"))
                 for r in row.get("reactions", [])]
    text = row["text"] or ""
    extra = _json_or_none(row.get("extra_json")) or {}
    if row.get("account"):
        extra["account"] = row["account"]
    return Doc(text=text, published_at=parse_time(row["published_at"]), reactions=reactions,
               user=_json_or_none(row.get("user_json")), extra=extra)


def _model_view(doc: Doc, max_chars: int) -> Doc:
    """The doc as the models read it: the head of a text longer than max_chars (in place; the
    store keeps the whole text)."""
    if len(doc.text) > max_chars:
        doc.text = doc.text[:max_chars]
    return doc


def _score_docs(bundle, docs: list[Doc], max_chars: int) -> list[dict]:
    """The bundle's scores of `docs`, in order; a doc written mostly in a script the models cannot
    read (rumourwatch.language) is not given to them: its result names the language and leaves
    every score None (unassessed, not a guess)."""
    langs = [unread_language(d.text) for d in docs]
    readable = [_model_view(d, max_chars) for d, lang in zip(docs, langs) if lang is None]
    scored = iter(bundle.score(readable) if readable else [])
    return [next(scored) if lang is None else _unassessed(bundle, lang) for lang in langs]


def _unassessed(bundle, language: str) -> dict:
    return {"rumour_probability": None, "is_rumour": None, "polarity": None, "polarity_scores": None,
            "health_probability": None, "health_related": None, "topic": None, "model_version": bundle.version,
            "language": language}


def scoring_doc(db, item_id: int, max_chars: int = 20000) -> Doc | None:
    """The stored item as the scorer reads it now: every reaction known, the text cut as the
    models read it. The item view explains this Doc, so its parts add up to the score it would
    get (None when the item is not stored)."""
    rows = store.load_items_for_scoring(db, [item_id])
    return _model_view(doc_from_row(rows[0]), max_chars) if rows else None


def score_items(db, bundle, item_ids: list[int], now: datetime, max_chars: int = 20000) -> int:
    """Score the given items with everything known now and store the scores. Returns the count."""
    rows = store.load_items_for_scoring(db, item_ids)
    if not rows:
        return 0
    docs = [doc_from_row(r) for r in rows]
    results = _score_docs(bundle, docs, max_chars)
    computed_at = iso(now)
    articles, own = _debunk_matches(db, bundle, docs, results, computed_at, [r["id"] for r in rows])
    covered = store.clarified_items(db, [r["id"] for r in rows], computed_at)
    out = []
    for i, (row, res) in enumerate(zip(rows, results)):
        best = articles[i] if articles else None
        mine = own[i]
        out.append({
            "item_id": row["id"], "model_version": bundle.version, "computed_at": computed_at,
            "reactions_seen": row["reaction_count"], "last_reaction_at": row["last_reaction_at"],
            "rumour_probability": res.get("rumour_probability"), "is_rumour": _b(res.get("is_rumour")),
            "polarity": res.get("polarity"),
            "polarity_scores": json.dumps(res.get("polarity_scores")) if res.get("polarity_scores") else None,
            "health_probability": res.get("health_probability"), "health_related": _b(res.get("health_related")),
            "topic": res.get("topic"),
            "debunk_url": getattr(best, "url", None), "debunk_title": getattr(best, "title", None),
            "debunk_score": getattr(best, "score", None),
            "already_debunked": _b(getattr(best, "already_debunked", None)),
        })
        ours = covered.get(row["id"])  # its cluster's clarification, whatever the text's similarity
        if ours is not None and (mine is None or mine["id"] != ours["id"]):
            mine = dict(ours, score=None)
        if mine is not None:  # the clarification published here comes before any article
            out[-1].update(debunk_url=mine["published_url"], debunk_title=mine["title"], debunk_score=mine["score"],
                           already_debunked=1, debunk_clarification_id=mine["id"])
    # an item the models cannot read keeps what a reader made of it (rumourwatch.readings)
    unread = [row["id"] for row, res in zip(rows, results) if "language" in res]
    with store.transaction(db):
        store.save_scores(db, out)
        if unread:
            store.apply_readings(db, unread)
    return len(out)


def _maybe_health(results: list[dict]) -> list[int]:
    """Positions of the results the relevance model does not call unrelated to health."""
    return [i for i, r in enumerate(results) if r.get("health_related") is not False and "language" not in r]


def _debunk_matches(db, bundle, docs: list[Doc], results: list[dict], at: str,
                    item_ids: list[int] | None = None) -> tuple[list | None, list]:
    """Per item: the closest published article (None without a debunk index) — of the knowledge
    base, or a clarification publisher's post in the feed (feed_claims) when that one reaches the
    已辟谣 threshold and is closer — and the clarification published here (by `at`) whose claim
    the item repeats, as own_clarification_matches gives it, when that one counts as 已辟谣 (else
    None). Looked up for health-related items only (the articles and the clarifications are about
    health; an item the relevance model calls not health-related is left unmatched, and its item
    page still looks its matches up on demand). Without a relevance model every item is looked up.
    The texts are vectorised once for all three. A publisher's post is not matched with itself
    (`item_ids`: the docs' item ids)."""
    n = len(docs)
    if not hasattr(bundle, "match_debunks"):
        return None, [None] * n
    wanted = _maybe_health(results)
    if not wanted:
        return [None] * n, [None] * n
    texts = [docs[i].text for i in wanted]
    index = _claims_index(bundle)
    claims = store.published_claims(db, at) if index is not None else []
    feed = feed_claims(db, at) if index is not None else []
    own, fed = [[] for _ in wanted], [[] for _ in wanted]
    if claims or feed:
        found, sims = index.match_with_claims(texts, 1, _claim_set(index, claims + feed))
        if claims:
            own = _best_claims(index, claims, sims[:, :len(claims)], 1, debunked_only=True)
        if feed:
            feed_sims = sims[:, len(claims):]
            if item_ids is not None:
                _mask_self(feed_sims, [item_ids[i] for i in wanted], feed)
            fed = _best_claims(index, feed, feed_sims, 1, debunked_only=True)
    else:
        found = bundle.match_debunks(texts, k=1)
    articles: list | None = None if found is None else [None] * n
    mine: list = [None] * n
    for pos, i in enumerate(wanted):
        if articles is not None:
            articles[i] = found[pos][0] if found[pos] else None
            if fed[pos] and (articles[i] is None or fed[pos][0]["score"] > (articles[i].score or 0.0)):
                articles[i] = _feed_match(fed[pos][0])
        if own[pos]:  # only matches at or above the threshold were kept
            mine[i] = own[pos][0]
    return articles, mine


def feed_claims(db, at: str, after_id: int | None = None) -> list[dict]:
    """The clarification publishers' posts stored by `at` (store.feed_clarifications) as claims to
    match: each with `kind` 'feed', its `claim` read as the knowledge base reads an article
    (knowledge.index_text: its title and the claim it refutes) and a `title` to show (its own, else
    the opening of its text)."""
    from .knowledge import index_text

    if after_id is None:  # the worker asks each batch: read them again only when they changed
        signature = store.feed_signature(db, at)
        cached = getattr(db, "_rw_feed_claims", None)
        if cached is not None and cached[0] == signature:
            return cached[1]
    claims = [dict(r, kind="feed", claim=index_text(r["title"] or "", r["text"] or ""),
                   title=r["title"] or (r["text"] or "")[:FEED_TITLE_CHARS])
              for r in store.feed_clarifications(db, at, after_id=after_id)]
    if after_id is None:
        db._rw_feed_claims = (signature, claims)  # kept on this connection's Database object
    return claims


FEED_TITLE_CHARS = 40  # a publisher's post without a title is shown by its opening


def _mask_self(sims, ids: list[int], feed: list[dict]) -> None:
    """Zero each text's similarity to its own post among the feed's (a publisher's post is no
    clarification of itself)."""
    column = {c["id"]: j for j, c in enumerate(feed)}
    for row, item_id in enumerate(ids):
        j = column.get(item_id)
        if j is not None:
            sims[row, j] = 0.0


def _feed_match(claim: dict):
    """A feed post as the scorer stores an article match (knowledge.Match)."""
    from .knowledge import Match

    return Match(url=claim["url"] or "", title=claim["title"], platform=claim["account"] or claim["platform"] or "",
                 date=parse_time(claim["published_at"]), score=claim["score"], snippet="",
                 already_debunked=claim["already_debunked"])


def _claims_index(bundle):
    """The bundle's debunk index when it can compare texts with claims (DebunkIndex), else None
    (no index, or a test double that only matches articles)."""
    index = getattr(bundle, "debunks", None)
    return index if hasattr(index, "match_with_claims") else None


def claim_text(clarification: dict) -> str:
    """The claim a published clarification answers: as its expert stated it, else the claim
    suggested from its alert's item (knowledge.suggested_claim), else its title."""
    from .knowledge import suggested_claim

    return ((clarification.get("claim") or "").strip() or suggested_claim(clarification.get("item_text") or "")
            or clarification.get("title") or "")


_claim_sets: list = []  # (index, claim keys, ClaimSet), the most recently used first
_claim_sets_lock = threading.Lock()  # the dashboard's sessions are threads of one process
CLAIM_SETS_KEPT = 3  # the worker's one set (own + feed); a page's own and feed sets


def _claim_set(index, claims: list[dict]):
    """The claims vectorised, reused while the index and the claims stay the same: the worker
    scores batch after batch against the same ones, and a page looks up its sets again and again."""
    ids = tuple((c.get("kind", "own"), c["id"]) for c in claims)
    with _claim_sets_lock:
        for n, (known, known_ids, found) in enumerate(_claim_sets):
            if known is index and known_ids == ids:
                _claim_sets.insert(0, _claim_sets.pop(n))
                return found
    found = index.claim_set([claim_text(c) for c in claims])
    with _claim_sets_lock:
        _claim_sets.insert(0, (index, ids, found))
        del _claim_sets[CLAIM_SETS_KEPT:]
    return found


def _best_claims(index, claims: list[dict], sims, k: int, debunked_only: bool = False) -> list[list[dict]]:
    """Per row of sims, its k best claims (score > 0; with debunked_only, ≥ the 已辟谣 threshold)."""
    sims = np.asarray(sims)
    top = sims.argmax(axis=1)[:, None] if k == 1 else np.argsort(-sims, axis=1, kind="stable")[:, :k]
    scores = np.take_along_axis(sims, top, axis=1)
    floor = index.threshold if debunked_only else 0.0
    keep = (scores > 0) & (scores >= floor)
    out: list[list[dict]] = [[] for _ in range(len(sims))]
    for i in np.flatnonzero(keep[:, 0]):  # scores are best first: a row whose best is left out has none
        out[i] = [dict(claims[j], score=round(v, 4), already_debunked=bool(index.already_debunked(v)))
                  for j, v, ok in zip(top[i].tolist(), scores[i].tolist(), keep[i]) if ok]
    return out


def own_clarification_matches(db, bundle, texts: list[str], at: str, k: int = 1) -> list[list[dict]] | None:
    """Per text, the k clarifications published here (by `at`) whose claims it most resembles, best
    first, each a published_claims row with `score` (DebunkIndex.similarity: the articles' scale)
    and `already_debunked` (score at or above the index's 已辟谣 threshold, calibrated on articles).

    A repeat of a claim the experts have clarified here is 已辟谣 even when it is not a near copy in
    the same cluster (a reworded post, a later wave), and its monitor is pointed at that
    clarification. None when the bundle has no debunk index or nothing is published yet."""
    index = _claims_index(bundle)
    if index is None or not texts:
        return None
    claims = store.published_claims(db, at)
    if not claims:
        return None
    return _best_claims(index, claims, index.similarity(texts, [claim_text(c) for c in claims]), k)


def article_matches(bundle, texts: list[str], k: int) -> list[list[dict]] | None:
    """Per text, the k closest articles of the knowledge base, best first, each a dict with title,
    url, platform, date (as the index has it: UTC, or None), score, already_debunked (the index's
    calibrated threshold) and own False. None when the bundle has no debunk index."""
    if not hasattr(bundle, "match_debunks"):
        return None
    found = bundle.match_debunks(list(texts), k=k)
    if found is None:
        return None
    index = getattr(bundle, "debunks", None)
    out = []
    for matches in found:
        rows = []
        for m in matches or []:
            get = (m.get if isinstance(m, dict) else lambda key, m=m: getattr(m, key, None))
            verdict = get("already_debunked")
            if verdict is None and hasattr(index, "already_debunked"):
                verdict = bool(index.already_debunked(get("score")))
            rows.append({"title": get("title"), "url": get("url"), "platform": get("platform"), "date": get("date"),
                         "score": get("score"), "already_debunked": verdict, "own": False})
        out.append(rows)
    return out


def own_matches(db, bundle, texts: list[str], at: str, k: int) -> list[list[dict]]:
    """own_clarification_matches in the shape of article_matches (own True, date the publication
    time in UTC, with clarification_id, alert_id and claim); empty lists when there are none."""
    found = own_clarification_matches(db, bundle, texts, at, k) or [[] for _ in texts]
    return [[{"title": m["title"], "url": m["published_url"], "platform": None, "date": m["published_at"],
              "score": m["score"], "already_debunked": m["already_debunked"], "own": True,
              "clarification_id": m["id"], "alert_id": m.get("alert_id"), "claim": claim_text(m)}
             for m in row] for row in found]


def feed_matches(db, bundle, texts: list[str], at: str, k: int) -> list[list[dict]]:
    """Per text, the k clarification publishers' posts in the feed (stored by `at`) closest to it,
    in the shape of article_matches (own False, with item_id); empty lists without a debunk index
    or such posts."""
    index = _claims_index(bundle)
    feed = feed_claims(db, at) if index is not None and texts else []
    if not feed:
        return [[] for _ in texts]
    found = _best_claims(index, feed, index.similarity(texts, _claim_set(index, feed)), k)
    return [[{"title": m["title"], "url": m["url"], "platform": m["account"] or m["platform"], "date": m["published_at"],
              "score": m["score"], "already_debunked": m["already_debunked"], "own": False, "item_id": m["id"]}
             for m in row] for row in found]


def merge_matches(own: list[dict], articles: list[dict], k: int) -> list[dict]:
    """One list of the closest clarifications: one published here that the text repeats comes
    first (it is the one to cite), then the rest by similarity; k at most."""
    return sorted(own + articles,
                  key=lambda m: (not (m.get("own") and m.get("already_debunked")), -(m.get("score") or 0.0)))[:k]


def closest_clarifications(db, bundle, text: str, at: str, k: int = 10) -> list[dict]:
    """The published clarifications closest to a claim or a post typed in (辟谣知识库, `rumourwatch
    debunks find`): the knowledge base's articles and the clarifications published here by `at`.
    Raises ModelError when the bundle has no debunk index."""
    from .errors import ModelError

    articles = article_matches(bundle, [text], k)
    if articles is None:
        raise ModelError("the models have no debunk index; run `python -m training.train` to train them")
    return merge_matches(own_matches(db, bundle, [text], at, k)[0],
                         articles[0] + feed_matches(db, bundle, [text], at, k)[0], k)


REPEAT_WINDOW_HOURS = 48  # how far back a new clarification is looked for among scored items
_SEEN_CLARIFICATIONS = "debunks.clarifications_seen"  # workflow_state: ids already looked for
_SEEN_FEED = "debunks.feed_seen"  # workflow_state: the newest clarification publisher's post looked for
SCAN_BATCH = 2000  # texts compared, and items re-scored, at once


def rescore_repeats(db, bundle, now: datetime, window_hours: float = REPEAT_WINDOW_HOURS,
                    max_chars: int = 20000) -> int:
    """Re-score now the items published in the last `window_hours` that repeat the claim of a
    clarification published since the last call — here, or a clarification publisher's post stored
    from the feed since then (feed_claims) — so that they show it at once: otherwise an item gets
    the match only at its next re-score (new reactions, new models), and an item that stopped
    spreading never would. Items the relevance model calls unrelated to health are left out, as in
    scoring. Returns how many items were re-scored.

    The feed's posts are followed from the first call on (the newest one then is the mark): on a
    store that already holds many, the items scored before match them at their next re-score."""
    index = _claims_index(bundle)
    if index is None:
        return 0
    claims = store.published_claims(db, iso(now))
    seen = set(json.loads(store.workflow_state(db, _SEEN_CLARIFICATIONS) or "[]"))
    new = [c for c in claims if c["id"] not in seen]
    feed_mark = store.workflow_state(db, _SEEN_FEED)
    new_feed = feed_claims(db, iso(now), after_id=int(feed_mark)) if feed_mark is not None else []
    newest_feed = max([c["id"] for c in new_feed] or [int(feed_mark)]) if feed_mark is not None \
        else store.feed_signature(db, iso(now))[1]
    if not new and not new_feed:
        if feed_mark is None:  # the first look: its newest post is the mark
            with store.transaction(db):
                store.set_workflow_state(db, _SEEN_FEED, str(newest_feed))
        return 0
    claim_set = index.claim_set([claim_text(c) for c in new + new_feed])
    own_posts = {c["id"] for c in new_feed}  # a publisher's post is not its own repeat
    recent = [r for r in store.recent_item_texts(db, iso(now - timedelta(hours=window_hours)))
              if r["id"] not in own_posts]
    repeats = []
    for start in range(0, len(recent), SCAN_BATCH):
        rows = recent[start:start + SCAN_BATCH]
        best = index.similarity([r["text"] or "" for r in rows], claim_set).max(axis=1)
        repeats += [r["id"] for r, score in zip(rows, best) if index.already_debunked(float(score))]
    total = 0
    for start in range(0, len(repeats), SCAN_BATCH):
        total += score_items(db, bundle, repeats[start:start + SCAN_BATCH], now, max_chars)
    with store.transaction(db):
        store.set_workflow_state(db, _SEEN_CLARIFICATIONS, json.dumps(sorted(seen | {c["id"] for c in new})))
        store.set_workflow_state(db, _SEEN_FEED, str(newest_feed))
    return total


def _b(value) -> int | None:
    return None if value is None else int(bool(value))


def score_pending(db, bundle, now: datetime, limit: int = 2000, max_chars: int = 20000) -> int:
    """Score items that are new, re-scored by a new model, or have reactions their score did not see."""
    total = 0
    while True:
        ids = store.items_to_score(db, bundle.version, limit=min(BATCH, limit - total))
        if not ids:
            return total
        total += score_items(db, bundle, ids, now, max_chars)
        if total >= limit:
            return total


# --- score-file ---------------------------------------------------------------------------

def open_text(path: str | Path, mode: str = "r") -> IO[str]:
    """Open a text file for reading or writing, gzip by magic bytes on read / by suffix on write.
    The file is opened once and its first bytes peeked at, so a pipe (/dev/stdin, <(…)) works."""
    p = Path(path)
    if "r" in mode:
        raw = open(p, "rb")  # noqa: SIM115 - handed to the wrapper, closed with it
        if raw.peek(2)[:2] == b"\x1f\x8b":
            raw = gzip.GzipFile(fileobj=raw, mode="rb")
            raw.myfileobj = raw.fileobj  # closed with the GzipFile
        return io.TextIOWrapper(raw, encoding="utf-8", errors="strict", newline="")
    if str(p).endswith(".gz"):
        return io.TextIOWrapper(gzip.open(p, "wb"), encoding="utf-8")
    return open(p, "w", encoding="utf-8")


@dataclass
class ParsedLine:
    line_no: int
    id: object
    doc: Doc | None = None
    error: str | None = None
    warning: str | None = None  # scored, but something in the record was repaired first


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _repair_surrogates(value, count: list[int]):
    """The value with each unpaired surrogate escape (half of a broken emoji, common in scraped
    posts) replaced by U+FFFD, so the rest of the text can be scored; `count` is added to."""
    if isinstance(value, str):
        fixed, n = _LONE_SURROGATE.subn("\ufffd", value)
        count[0] += n
        return fixed
    if isinstance(value, list):
        return [_repair_surrogates(v, count) for v in value]
    if isinstance(value, dict):
        return {k: _repair_surrogates(v, count) for k, v in value.items()}
    return value


def parse_score_line(line: str, line_no: int, as_of_hours: float | None) -> ParsedLine:
    """One input line → a Doc cut to the decision time, or an error that names the problem."""
    if line.startswith("\ufeff") and line_no == 1:  # a byte-order mark (files saved by Excel, Notepad)
        line = line[1:]
    if not line.strip():
        return ParsedLine(line_no, line_no, error=f"line {line_no}: blank line, no record")
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep for the parser
        return ParsedLine(line_no, line_no, error=f"line {line_no}: invalid JSON: {exc}")
    if not isinstance(record, dict):
        return ParsedLine(line_no, line_no, error=f"line {line_no}: expected a JSON object, got {type(record).__name__}")
    rid = record.get("id", line_no)
    if rid is None:
        rid = line_no
    if isinstance(rid, float) and not math.isfinite(rid):  # NaN / Infinity: not valid JSON to echo back
        return ParsedLine(line_no, line_no, error=f"line {line_no}: id {rid!r} is not a finite number")
    repaired = [0]
    record = {k: (v if k == "id" else _repair_surrogates(v, repaired)) for k, v in record.items()}
    try:
        doc = doc_from_bundle(record)
        if not doc.text.strip():
            raise RecordError("empty text")
        if as_of_hours is not None and doc.published_at is None and doc.reactions:
            raise RecordError("--as-of-hours needs the record's date to place its reactions in time")
        parsed = ParsedLine(line_no, rid, doc=doc.as_of(as_of_hours))
    except RecordError as exc:
        return ParsedLine(line_no, rid, error=f"line {line_no}: {exc}")
    if repaired[0]:
        parsed.warning = (f"{repaired[0]} unpaired surrogate escape(s) (broken emoji) replaced by U+FFFD "
                          "before scoring")
    return parsed


_UNDECODABLE = "\x00undecodable:"


def _lines(fh: IO[str]) -> Iterator[tuple[int, str]]:
    """Numbered lines; an undecodable line is reported, not fatal."""
    line_no = 0
    buffer = fh.buffer if hasattr(fh, "buffer") else None
    if buffer is None:
        for line_no, line in enumerate(fh, start=1):
            yield line_no, line
        return
    for raw in buffer:
        line_no += 1
        try:
            yield line_no, raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield line_no, f"{_UNDECODABLE}{exc}"


def check_score_file_args(input_path: str | Path, output_path: str | Path, as_of_hours: float | None) -> None:
    """Refuse, before any model is loaded, what would fail or destroy data later: an output that is
    the input (opening it for writing would empty it), an output directory that does not exist, a
    decision time that is not a finite number of hours ≥ 0."""
    if as_of_hours is not None and not (math.isfinite(as_of_hours) and 0 <= as_of_hours <= MAX_AS_OF_HOURS):
        raise RecordError(f"--as-of-hours must be a number of hours from 0 to {MAX_AS_OF_HOURS:,}, "
                          f"got {as_of_hours!r}")
    out = Path(output_path)
    if out.exists() and Path(input_path).exists() and out.samefile(input_path):
        raise RecordError(f"the output {output_path} is the input file: writing it would erase the input; "
                          "choose another output path")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise RecordError(f"the output's directory {parent} does not exist: create it first")


def score_file(input_path: str | Path, output_path: str | Path, bundle, as_of_hours: float | None = None,
               max_chars: int = 20000) -> dict:
    """Score a JSON Lines file; one output line per input line, in order (a blank or malformed line
    gets an error line). A compressed input that ends early (truncated download) has its readable
    lines scored and written, then a RecordError says where it ended."""
    check_score_file_args(input_path, output_path, as_of_hours)
    counts = {"scored": 0, "errors": 0}  # and "unassessed" when a post's script cannot be read
    line_no, damaged = 0, None
    with open_text(input_path) as fin, open_text(output_path, "w") as fout:
        batch: list[ParsedLine] = []
        lines = _lines(fin)
        while True:
            try:
                line_no, line = next(lines)
            except StopIteration:
                break
            except (EOFError, OSError, zlib.error) as exc:  # gzip: truncated, trailing garbage, bad CRC
                damaged = exc
                break
            if line.startswith(_UNDECODABLE):
                parsed = ParsedLine(line_no, line_no,
                                    error=f"line {line_no}: not UTF-8 text ({line[len(_UNDECODABLE):]})")
            else:
                parsed = parse_score_line(line, line_no, as_of_hours)
            batch.append(parsed)
            if len(batch) >= BATCH:
                _write_batch(batch, fout, bundle, max_chars, counts)
                batch = []
        _write_batch(batch, fout, bundle, max_chars, counts)
    if damaged is not None:
        raise RecordError(
            f"{input_path} ends early or is damaged after line {line_no} "
            f"({str(damaged) or type(damaged).__name__}): the {sum(counts.values())} line(s) "
            f"read were scored and written to {output_path}; the rest of the file could not be read")
    return counts


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _write_batch(batch: list[ParsedLine], fout, bundle, max_chars: int, counts: dict) -> None:
    good = [p for p in batch if p.doc is not None]
    results = iter(_score_docs(bundle, [p.doc for p in good], max_chars) if good else [])
    for p in batch:
        if p.doc is None:
            out = {"id": p.id, "error": p.error}
            counts["errors"] += 1
        elif "language" in (res := next(results)):
            out = {"id": p.id, "rumour_probability": None, "is_rumour": None, "polarity": None,
                   "health_related": None, "model_version": res["model_version"], "language": res["language"],
                   "warning": f"line {p.line_no}: the text is written in {LANGUAGE_NAMES[res['language']]} "
                              "script, which the models (trained on Chinese) cannot read: not assessed"
                              + (f"; {p.warning}" if p.warning else "")}
            counts["unassessed"] = counts.get("unassessed", 0) + 1
        else:
            out = {"id": p.id, "rumour_probability": round(float(res["rumour_probability"]), 6),
                   "is_rumour": bool(res["is_rumour"]), "polarity": res.get("polarity"),
                   "health_related": None if res.get("health_related") is None else bool(res["health_related"]),
                   "model_version": res.get("model_version", bundle.version)}
            for extra in ("topic", "health_probability"):
                if res.get(extra) is not None:
                    out[extra] = res[extra]
            if p.warning:
                out["warning"] = f"line {p.line_no}: {p.warning}"
            counts["scored"] += 1
        text = json.dumps(out, ensure_ascii=False)
        if not _utf8_ok(text):  # a lone surrogate escape from the input (e.g. in the id): keep it escaped
            text = json.dumps(out)
        fout.write(text + "\n")
