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
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Iterator

from . import store
from .errors import RecordError
from .records import Doc, Reaction, doc_from_bundle, iso, parse_time

BATCH = 512


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


def _score_docs(bundle, docs: list[Doc], max_chars: int) -> list[dict]:
    for d in docs:
        if len(d.text) > max_chars:
            d.text = d.text[:max_chars]  # models read the head; the store keeps the whole text
    return bundle.score(docs)


def score_items(db, bundle, item_ids: list[int], now: datetime, max_chars: int = 20000) -> int:
    """Score the given items with everything known now and store the scores. Returns the count."""
    rows = store.load_items_for_scoring(db, item_ids)
    if not rows:
        return 0
    docs = [doc_from_row(r) for r in rows]
    results = _score_docs(bundle, docs, max_chars)
    matches = _debunk_matches(bundle, docs, results)
    computed_at = iso(now)
    out = []
    for i, (row, res) in enumerate(zip(rows, results)):
        best = matches[i][0] if matches and matches[i] else None
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
    with store.transaction(db):
        store.save_scores(db, out)
    return len(out)


def _debunk_matches(bundle, docs: list[Doc], results: list[dict]) -> list | None:
    """The closest published clarification per item, looked up for health-related items only (the
    debunk articles are health clarifications; an item the relevance model calls not health-related
    is left unmatched, None, and its item page still looks its matches up on demand). Without a
    relevance model every item is looked up."""
    if not hasattr(bundle, "match_debunks"):
        return None
    wanted = [i for i, r in enumerate(results) if r.get("health_related") is not False]
    if not wanted:
        return [None] * len(docs)
    found = bundle.match_debunks([docs[i].text for i in wanted], k=1)
    if found is None:
        return None
    out: list = [None] * len(docs)
    for i, m in zip(wanted, found):
        out[i] = m
    return out


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
    """Open a text file for reading or writing, gzip by magic bytes on read / by suffix on write."""
    p = Path(path)
    if "r" in mode:
        with open(p, "rb") as fh:
            magic = fh.read(2)
        raw = gzip.open(p, "rb") if magic == b"\x1f\x8b" else open(p, "rb")
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


def parse_score_line(line: str, line_no: int, as_of_hours: float | None) -> ParsedLine | None:
    """One input line → a Doc cut to the decision time, or an error that names the problem."""
    if not line.strip():
        return None
    try:
        record = json.loads(line)
    except (ValueError, RecursionError) as exc:  # RecursionError: nesting too deep for the parser
        return ParsedLine(line_no, line_no, error=f"line {line_no}: invalid JSON: {exc}")
    if not isinstance(record, dict):
        return ParsedLine(line_no, line_no, error=f"line {line_no}: expected a JSON object, got {type(record).__name__}")
    rid = record.get("id", line_no)
    if rid is None:
        rid = line_no
    try:
        doc = doc_from_bundle(record)
        if not doc.text.strip():
            raise RecordError("empty text")
        if as_of_hours is not None and doc.published_at is None and doc.reactions:
            raise RecordError("--as-of-hours needs the record's date to place its reactions in time")
        return ParsedLine(line_no, rid, doc=doc.as_of(as_of_hours))
    except RecordError as exc:
        return ParsedLine(line_no, rid, error=f"line {line_no}: {exc}")


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
            yield line_no, f"\x00undecodable:{exc}"


def score_file(input_path: str | Path, output_path: str | Path, bundle, as_of_hours: float | None = None,
               max_chars: int = 20000) -> dict:
    """Score a JSON Lines file; one output line per non-blank input line, in order."""
    if as_of_hours is not None and as_of_hours < 0:
        raise RecordError("--as-of-hours must be 0 or more")
    counts = {"scored": 0, "errors": 0}
    with open_text(input_path) as fin, open_text(output_path, "w") as fout:
        batch: list[ParsedLine] = []
        for line_no, line in _lines(fin):
            if line.startswith("\x00undecodable:"):
                parsed = ParsedLine(line_no, line_no, error=f"line {line_no}: not UTF-8 text ({line[14:]})")
            else:
                parsed = parse_score_line(line, line_no, as_of_hours)
            if parsed is None:
                continue
            batch.append(parsed)
            if len(batch) >= BATCH:
                _write_batch(batch, fout, bundle, max_chars, counts)
                batch = []
        _write_batch(batch, fout, bundle, max_chars, counts)
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
        else:
            res = next(results)
            out = {"id": p.id, "rumour_probability": round(float(res["rumour_probability"]), 6),
                   "is_rumour": bool(res["is_rumour"]), "polarity": res.get("polarity"),
                   "health_related": None if res.get("health_related") is None else bool(res["health_related"]),
                   "model_version": res.get("model_version", bundle.version)}
            for extra in ("topic", "health_probability"):
                if res.get(extra) is not None:
                    out[extra] = res[extra]
            counts["scored"] += 1
        text = json.dumps(out, ensure_ascii=False)
        if not _utf8_ok(text):  # a lone surrogate escape from the input (e.g. in the id): keep it escaped
            text = json.dumps(out)
        fout.write(text + "\n")
