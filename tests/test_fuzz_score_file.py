"""Property-based fuzzing (hypothesis) of `score-file` and of ingest through the file sources.

Malformed, oversized, wrongly encoded and adversarial records. The contract under test:
* score-file never crashes and writes exactly one output line per input line, in order:
  a score with a probability in [0, 1], or {"id", "error"} whose error says what is wrong;
* ingest (JSON Lines and CSV sources -> worker -> store) never crashes, and every record becomes an
  item or a row in `rejects` with a reason: nothing is dropped silently.

Example counts are bounded so CI stays fast; the number of records fuzzed is printed at the end
(run with -s to see it).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import tempfile
from datetime import datetime, timezone
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rumourwatch import store
from rumourwatch.score import score_file
from rumourwatch.sources.files import file_source
from rumourwatch.worker import Worker

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)
logging.getLogger("rumourwatch.worker").setLevel(logging.ERROR)  # refused files are asserted, not logged
FUZZED = {"score_file_lines": 0, "ingest_jsonl_lines": 0, "ingest_csv_rows": 0}
FUZZ = settings(max_examples=60, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])

# --- strategies -------------------------------------------------------------------------------

HOSTILE_TEXT = st.sampled_from([
    "<script>alert(1)</script>喝醋治病", "[点我](javascript:alert(1))", "谣\u200b言\u202e反转", "\x00\x01\x1b[31m",
    "\ud800孤立代理", "🦠" * 50, "\u3000\u3000", "A" * 30000, "谣" * 70000, "NaN", "null", "{}", "\r\n\r",
])
ANY_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(min_value=-10**30, max_value=10**30),
                       st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40), HOSTILE_TEXT)
DATES = st.one_of(st.sampled_from(["2026-11-23 08:00", "2026-11-23T08:00:00Z", "2026-13-45 99:99", "昨天",
                                   "9999-12-31 23:59", "0001-01-01", "2026/11/23", "", " "]),
                  st.floats(allow_nan=True, allow_infinity=True), st.integers(min_value=-10**20, max_value=10**20),
                  ANY_SCALAR)
REACTION = st.one_of(
    st.fixed_dictionaries({"date": DATES, "text": st.one_of(st.text(max_size=30), HOSTILE_TEXT, ANY_SCALAR)},
                          optional={"user_id": ANY_SCALAR}),
    ANY_SCALAR, st.lists(ANY_SCALAR, max_size=3))
RECORD = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=20), st.integers(), ANY_SCALAR, st.lists(st.integers(), max_size=2)),
        "text": st.one_of(st.text(max_size=200), HOSTILE_TEXT, ANY_SCALAR, st.lists(st.text(max_size=5), max_size=3)),
        "title": ANY_SCALAR, "date": DATES, "platform": ANY_SCALAR, "url": ANY_SCALAR, "account": ANY_SCALAR,
        "author": ANY_SCALAR, "repost_num": ANY_SCALAR, "comment_num": ANY_SCALAR, "like_num": ANY_SCALAR,
        "user": st.one_of(ANY_SCALAR, st.dictionaries(st.text(max_size=5), ANY_SCALAR, max_size=3)),
        "reposts": st.one_of(st.lists(REACTION, max_size=4), ANY_SCALAR),
        "comments": st.one_of(st.lists(REACTION, max_size=4), ANY_SCALAR),
        "original_date": DATES,
    })


def _encode_record(record, how: str) -> bytes:
    text = json.dumps(record, ensure_ascii=(how == "ascii"), allow_nan=True)
    if how == "gb18030":
        return text.encode("gb18030", errors="surrogatepass" if False else "replace")
    if how == "truncated":
        return text.encode("utf-8", errors="surrogatepass")[: max(1, len(text) // 2)]
    return text.encode("utf-8", errors="surrogatepass")  # a lone surrogate becomes invalid UTF-8


LINE = st.one_of(
    st.tuples(RECORD, st.sampled_from(["utf8", "ascii", "gb18030", "truncated"])).map(lambda p: _encode_record(*p)),
    st.binary(max_size=200),
    st.sampled_from([
        b"[" * 50_000 + b"]" * 50_000,                     # nesting deep enough to break a recursive parser
        b'{"id": "deep", "text": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"id": "\\ud800", "text": "lone surrogate in the id"}',
        b'{"id": "big", "text": "x", "date": 1e400}',
        b'{"id": "nan", "text": "x", "date": NaN}',
        b'{"id": "ts", "text": "x", "date": 99999999999999999999}',
        b'{"text": "BOM"}'.join([b"\xef\xbb\xbf", b""]),
        b'"just a string"', b"42", b"null", b"[]", b"{}",
        b'{"id": 1, "text": "ok", "reposts": {"not": "a list"}}',
        b'{"id": 2, "text": "ok", "comments": [1, "two", null, {"date": [], "text": {}}]}',
        b"\xff\xfe{\x00}\x00",
        "{\"id\": \"gbk\", \"text\": \"谣言测试\"}".encode("gb18030"),
        b'{"id": "huge", "text": "' + "谣".encode() * 300_000 + b'"}',
        b"   ", b"\t", "\u3000".encode(), b"\x0b\x0c",
    ]),
)


def _lines_of(lines: list[bytes]) -> list[bytes]:
    # What a line reader sees: the joined file split on b"\n" (a fuzzed line may hold newlines itself).
    return b"\n".join(lines).split(b"\n")


# --- score-file -------------------------------------------------------------------------------

@FUZZ
@given(lines=st.lists(LINE, min_size=1, max_size=12), as_of=st.one_of(st.none(), st.sampled_from([0.0, 1.0, 24.0])))
def test_score_file_never_crashes_and_explains_every_rejected_line(rule_bundle, lines, as_of):
    physical = _lines_of(lines)
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "in.jsonl", Path(tmp) / "out.jsonl"
        src.write_bytes(b"\n".join(lines) + b"\n")
        counts = score_file(src, out, rule_bundle, as_of)
        results = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    FUZZED["score_file_lines"] += len(physical)
    # one output line per line read, blank ones included (they get an error line), in order
    assert len(results) == len(physical) == counts["scored"] + counts["errors"]
    for r in results:
        assert "id" in r
        if "error" in r:
            assert isinstance(r["error"], str) and r["error"].startswith("line ") and len(r["error"]) > 8
        else:
            assert 0.0 <= r["rumour_probability"] <= 1.0 and r["model_version"] == rule_bundle.version


# --- ingest through the file sources ----------------------------------------------------------

def _ingest(path: Path) -> tuple[object, object]:
    db = store.open_db(memory=True)
    worker = Worker(db, [file_source(str(path))], None, clock=lambda: NOW)
    stats = worker.poll_once()
    return db, stats


@FUZZ
@given(lines=st.lists(LINE, min_size=1, max_size=12))
def test_jsonl_ingest_turns_every_line_into_an_item_or_an_explained_reject(lines):
    physical = _lines_of(lines)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "feed.jsonl"
        src.write_bytes(b"\n".join(lines) + b"\n")
        db, stats = _ingest(src)
    FUZZED["ingest_jsonl_lines"] += len(physical)
    if stats.errors:  # the whole file refused (a UTF-16 byte-order mark): said so, nothing half-ingested
        assert all("UTF-16" in e for e in stats.errors) and store.count_items(db) == 0
        assert physical[0].startswith((b"\xff\xfe", b"\xfe\xff"))
        return
    rejects = store.list_rejects(db, limit=10_000)
    assert all(r["reason"] and r["reason"].strip() for r in rejects)
    # Each non-blank line is accounted for: a new item, a repeat of one (same id), or a reject.
    # (The file source skips only ASCII-blank lines; a line of full-width spaces is a reject with a reason.)
    accounted = stats.new_items + stats.updated_items + stats.rejects
    assert accounted == sum(bool(p.strip()) for p in physical), (stats, len(rejects))
    assert stats.rejects == len(rejects)
    assert store.count_items(db) == stats.new_items


CSV_CELL = st.one_of(st.text(max_size=60), HOSTILE_TEXT.filter(lambda s: len(s) < 5000),
                     st.sampled_from(["2026-11-23 08:00", "不是日期", "=cmd|' /C calc'!A0", "@SUM(1)", "-1", ""]))


@FUZZ
@given(header=st.lists(st.sampled_from(["id", "text", "内容", "发布时间", "平台", "账号", "转发数", "comments",
                                        "junk", "", "text"]), min_size=1, max_size=6),
       rows=st.lists(st.lists(CSV_CELL, min_size=0, max_size=7), min_size=1, max_size=8),
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "gb18030"]))
def test_csv_ingest_turns_every_row_into_an_item_or_an_explained_reject(header, rows, encoding):
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(rows)
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "export.csv"
        src.write_bytes(buf.getvalue().encode(encoding, errors="replace"))
        db, stats = _ingest(src)
    FUZZED["ingest_csv_rows"] += len(rows)
    rejects = store.list_rejects(db, limit=10_000)
    assert all(r["reason"] and r["reason"].strip() for r in rejects)
    if stats.errors:  # the whole file refused (e.g. no text column): said so, nothing half-ingested
        assert all(e.strip() for e in stats.errors) and store.count_items(db) == 0
        return
    assert store.count_items(db) == stats.new_items
    assert stats.rejects == len(rejects)
    assert stats.new_items + stats.updated_items + stats.rejects >= 1 or all(
        not any(c.strip() for c in row) for row in rows)


@pytest.fixture(scope="module", autouse=True)
def report_counts():
    yield
    total = sum(FUZZED.values())
    print(f"\nfuzz: {total} records fuzzed ({FUZZED}); no crash, every reject explained")
