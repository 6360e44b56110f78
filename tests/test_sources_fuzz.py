"""Property tests: whatever lines a monitor's file holds, the file adapters never crash, set every
bad line aside as a RawReject with its line number, and pass every good line through intact."""

import csv
import gzip
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rumourwatch.errors import SourceError
from rumourwatch.sources import CsvSource, JsonLinesSource, RawItem, RawReject
from rumourwatch.sources.files import MAX_REJECT_RAW

FUZZ = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])
BLANK = " \t\r\n\f\v"

# Texts as adversarial as real feeds: zero-width and bidi controls, markup, CJK, emoji, controls.
TRICKY = ["\u200b", "\u200d", "\ufeff", "\u202e", "\u2066", "\u2028", "\x00", "\x85",
          "<script>alert('x')</script>", "<img src=x onerror=alert(1)>", "谣言", "辟谣", "🦠",
          '"', "\\", ",", "\r", "\n", "\t", "{", "}", "[", "]"]
texts = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=60),
    st.lists(st.sampled_from(TRICKY), max_size=12).map("".join),
    st.tuples(st.sampled_from(TRICKY), st.integers(1, 3000)).map(lambda t: t[0] * t[1]),
)
good_records = st.fixed_dictionaries(
    {"id": st.text(st.characters(blacklist_categories=("Cs",)), max_size=10), "text": texts},
    optional={"date": st.sampled_from(["2024-03-01 08:00", "not a date", ""]),
              "repost_num": st.integers(-5, 10**12), "user": st.fixed_dictionaries(
                  {"followers": st.integers(0, 10**9)})})


def is_json_object(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (ValueError, RecursionError):
        return False


# Bad lines that are valid UTF-8 (so encoding sniffing has nothing to go on).
bad_text_lines = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=80),
    st.builds(json.dumps, st.one_of(st.integers(), st.none(), st.booleans(), st.text(max_size=20),
                                    st.lists(st.integers(), max_size=5))),
    good_records.map(lambda r: json.dumps(r, ensure_ascii=False)[:-1]),  # cut short
    st.integers(1, 5000).map(lambda n: "[" * n),  # nested too deeply
    st.just('{"text": "\\ud83d alone"}'),  # unpaired surrogate escape
    st.integers(MAX_REJECT_RAW, 3 * MAX_REJECT_RAW).map(lambda n: "{" + "谣" * n),  # oversized
).filter(lambda s: "\n" not in s and s.strip(BLANK) and not is_json_object(s))

# Bad lines as raw bytes: random, or another encoding than the file's.
bad_byte_lines = st.one_of(
    st.binary(min_size=1, max_size=80),
    texts.map(lambda t: json.dumps({"text": "网传" + t}, ensure_ascii=False)
              .encode("gb18030", "replace")),
)


def _undecodable(b: bytes) -> bool:
    try:
        b.decode("utf-8")
        return False
    except UnicodeDecodeError:
        return True


def _bad_bytes_ok(b: bytes) -> bool:
    body = b.rstrip(b"\r\n")
    if b"\n" in b or not body:
        return False
    if _undecodable(body):
        return True
    text = body.decode("utf-8")
    return bool(text.strip(BLANK)) and not is_json_object(text)


lines_jsonl = st.lists(st.one_of(good_records.map(lambda r: ("good", r)),
                                 bad_text_lines.map(lambda s: ("bad", s))), max_size=12)


def _check(events, plan):
    assert len(events) == len(plan)
    for number, (event, (kind, value)) in enumerate(zip(events, plan), start=1):
        if kind == "good":
            assert isinstance(event, RawItem), (number, event)
            assert event.record == value
        else:
            assert isinstance(event, RawReject), (number, event)
            assert event.reason.startswith(f"line {number}: ") and len(event.reason) > 12
            assert len(event.raw) <= MAX_REJECT_RAW + 40
        assert event.position


@FUZZ
@given(plan=lines_jsonl, gz=st.booleans())
def test_jsonl_never_crashes_and_sorts_good_from_bad(tmp_path_factory, plan, gz):
    data = b"".join((json.dumps(v, ensure_ascii=False) if k == "good" else v).encode() + b"\n"
                    for k, v in plan)
    path = tmp_path_factory.mktemp("fz") / "in.jsonl"
    path.write_bytes(gzip.compress(data) if gz else data)
    events = list(JsonLinesSource(path).read(None))
    _check(events, plan)
    # Resuming from any event's position yields exactly the events after it.
    if events:
        middle = len(events) // 2
        again = list(JsonLinesSource(path).read(events[middle].position))
        assert [e.position for e in again] == [e.position for e in events[middle + 1:]]


@FUZZ
@given(plan=st.lists(st.one_of(good_records.map(lambda r: ("good", r)),
                               bad_byte_lines.filter(_bad_bytes_ok).map(lambda b: ("bad", b))),
                     max_size=12))
def test_jsonl_random_and_wrongly_encoded_bytes_are_rejected(tmp_path_factory, plan):
    # A good first line: a file that starts with random bytes may start with gzip's magic.
    plan = [("good", {"text": "第一行"})] + plan
    data = b"".join((json.dumps(v, ensure_ascii=False).encode() if k == "good" else v) + b"\n"
                    for k, v in plan)
    path = tmp_path_factory.mktemp("fz") / "in.jsonl"
    path.write_bytes(data)
    _check(list(JsonLinesSource(path, encoding="utf-8").read(None)), plan)


@FUZZ
@given(data=st.binary(max_size=400))
def test_jsonl_arbitrary_file_content_never_crashes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fz") / "in.jsonl"
    path.write_bytes(data)
    try:
        events = list(JsonLinesSource(path).read(None))
    except SourceError as exc:
        # The one whole-file refusal: UTF-16 text, with what to do about it (the worker logs it).
        assert data.startswith((b"\xff\xfe", b"\xfe\xff")) and "save it as UTF-8" in str(exc)
        return
    for event in events:
        assert isinstance(event, (RawItem, RawReject))
        if isinstance(event, RawReject):
            assert event.reason.startswith("line ")


# -- CSV ---------------------------------------------------------------------------------------

csv_texts = texts.map(lambda t: t.replace("\x00", ""))  # the csv module cannot write NUL
good_rows = st.tuples(st.integers(0, 10**6).map(lambda n: f"r{n}"), csv_texts,
                      st.sampled_from(["2024-03-01 08:00", "", "昨天"]))
# Bad rows hold no quote or delimiter, so they cannot swallow the lines after them.
bad_rows = st.one_of(
    st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters='",\n\r\x00'),
            min_size=1, max_size=40),
    st.lists(st.text("abc谣言", max_size=5), min_size=4, max_size=8).map(",".join),
).filter(lambda s: any(c.strip(BLANK) for c in s.split(",")))  # empty rows are skipped


def _csv_line(row) -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\r\n").writerow(row)  # quotes fields holding \r or \n
    return buf.getvalue()


@FUZZ
@given(plan=st.lists(st.one_of(good_rows.map(lambda r: ("good", r)),
                               bad_rows.map(lambda s: ("bad", s))), max_size=10),
       encoding=st.sampled_from(["utf-8", "gb18030"]), gz=st.booleans())
def test_csv_never_crashes_and_sorts_good_from_bad(tmp_path_factory, plan, encoding, gz):
    parts = ["id,内容,发布时间\n"]
    for kind, value in plan:
        parts.append(_csv_line(value) if kind == "good" else value + "\n")
    data = "".join(parts).encode(encoding)
    path = tmp_path_factory.mktemp("fz") / "in.csv"
    path.write_bytes(gzip.compress(data) if gz else data)
    events = list(CsvSource(path, encoding=encoding).read(None))
    assert len(events) == len(plan)
    for event, (kind, value) in zip(events, plan):
        if kind == "good":
            assert isinstance(event, RawItem), event
            assert event.record == {"id": value[0], "text": value[1], "date": value[2]}
        else:
            assert isinstance(event, RawReject), event
            assert "expected 3 fields as in the header" in event.reason


@FUZZ
@given(data=st.binary(max_size=400))
def test_csv_arbitrary_file_content_never_crashes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("fz") / "in.csv"
    path.write_bytes(b"text,date\n" + data)
    for event in CsvSource(path).read(None):
        assert isinstance(event, (RawItem, RawReject))
        if isinstance(event, RawReject):
            assert event.reason.startswith("line ")
