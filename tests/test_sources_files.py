"""JSON Lines and CSV sources: encodings, gzip, bad lines set aside, resume from a checkpoint."""

import gzip
import json

import pytest

from rumourwatch.errors import SourceError
from rumourwatch.sources import CsvSource, JsonLinesSource, RawItem, RawReject, file_source

# Fictional posts written for these tests.
POSTS = [
    {"id": "a1", "text": "听说每天喝三杯醋能软化血管，大家快转发", "date": "2024-03-01 08:00"},
    {"id": "a2", "text": "市疾控中心提醒：流感高发季请及时接种疫苗", "date": "2024-03-01 09:30"},
    {"id": "a3", "text": "隔夜菜一口都不能吃？营养师来解答", "date": "2024-03-02 10:15"},
]


def write_jsonl(path, records, extra_lines=(), compress=False, encoding="utf-8"):
    lines = [json.dumps(r, ensure_ascii=False).encode(encoding) for r in records]
    data = b"\n".join(list(lines) + list(extra_lines)) + b"\n"
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def items(events):
    return [e for e in events if isinstance(e, RawItem)]


def rejects(events):
    return [e for e in events if isinstance(e, RawReject)]


def test_jsonl_reads_every_record_in_order(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", POSTS)
    events = list(JsonLinesSource(path).read(None))
    assert [e.record for e in events] == POSTS
    assert all(e.position for e in events)


def test_malformed_line_is_rejected_with_its_line_number_and_the_rest_go_on(tmp_path):
    path = tmp_path / "posts.jsonl"
    lines = [json.dumps(POSTS[0], ensure_ascii=False),
             '{"id": "b2", "text": "少了逗号" "date": "2024-03-01"}',
             "[1, 2, 3]",
             json.dumps(POSTS[1], ensure_ascii=False)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    events = list(JsonLinesSource(path).read(None))
    assert [e.record["id"] for e in items(events)] == ["a1", "a2"]
    bad = rejects(events)
    assert bad[0].reason == "line 2: invalid JSON: Expecting ',' delimiter at column 29"
    assert bad[0].raw == lines[1]
    assert bad[0].origin.endswith("posts.jsonl:2")
    assert bad[1].reason == "line 3: expected a JSON object, got an array"


def test_undecodable_bytes_are_rejected_not_replaced(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", POSTS[:2], extra_lines=[b'{"text": "\xff\xfe"}'])
    events = list(JsonLinesSource(path).read(None))
    assert len(items(events)) == 2
    [bad] = rejects(events)
    assert bad.reason.startswith("line 3: undecodable bytes for utf-8")
    assert "\\xff" in bad.raw


def test_gzip_is_detected_by_content_not_name(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", POSTS, compress=True)  # no .gz suffix
    assert [e.record for e in JsonLinesSource(path).read(None)] == POSTS
    plain = write_jsonl(tmp_path / "plain.jsonl.gz", POSTS)  # .gz suffix, not compressed
    assert [e.record for e in JsonLinesSource(plain).read(None)] == POSTS


def test_utf8_bom_is_stripped(tmp_path):
    path = tmp_path / "bom.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(POSTS[0], ensure_ascii=False).encode() + b"\n")
    assert [e.record for e in JsonLinesSource(path).read(None)] == [POSTS[0]]


def test_gb18030_jsonl_is_detected(tmp_path):
    path = write_jsonl(tmp_path / "gb.jsonl", POSTS, encoding="gb18030")
    source = JsonLinesSource(path)
    assert [e.record for e in source.read(None)] == POSTS
    assert source.detected_encoding == "gb18030"


def test_resume_from_checkpoint_yields_nothing_twice(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", POSTS, extra_lines=[b"not json"])
    source = JsonLinesSource(path)
    first = list(source.read(None))
    seen = [first[0]]
    seen += list(source.read(first[0].position))
    assert [getattr(e, "record", None) or e.raw for e in seen] == \
        [getattr(e, "record", None) or e.raw for e in first]
    assert list(source.read(first[-1].position)) == []


def test_lines_appended_later_are_picked_up_from_the_checkpoint(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", POSTS[:2])
    source = JsonLinesSource(path)
    events = list(source.read(None))
    with path.open("ab") as fh:
        fh.write(json.dumps(POSTS[2], ensure_ascii=False).encode() + b"\n")
    assert [e.record for e in source.read(events[-1].position)] == [POSTS[2]]


def test_one_megabyte_text_passes_through_unchanged(tmp_path):
    big = "谣" * (1024 * 1024 // 3) + "x" * 7
    path = write_jsonl(tmp_path / "big.jsonl", [{"id": "big", "text": big}])
    [event] = JsonLinesSource(path).read(None)
    assert event.record["text"] == big


def test_empty_text_passes_through_for_ingest_to_judge(tmp_path):
    path = write_jsonl(tmp_path / "empty.jsonl", [{"id": "e", "text": ""}])
    [event] = JsonLinesSource(path).read(None)
    assert isinstance(event, RawItem) and event.record == {"id": "e", "text": ""}


def test_platform_argument_fills_missing_platform_only(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [POSTS[0], dict(POSTS[1], platform="抖音")])
    events = list(JsonLinesSource(path, platform="微博").read(None))
    assert [e.record["platform"] for e in events] == ["微博", "抖音"]


def test_missing_file_is_a_source_error_naming_the_path(tmp_path):
    path = tmp_path / "nowhere.jsonl"
    with pytest.raises(SourceError, match="nowhere.jsonl does not exist"):
        list(JsonLinesSource(path).read(None))
    with pytest.raises(SourceError, match="nowhere.csv does not exist"):
        list(CsvSource(tmp_path / "nowhere.csv").read(None))


def test_bad_checkpoint_is_a_clear_error(tmp_path):
    path = write_jsonl(tmp_path / "posts.jsonl", POSTS)
    with pytest.raises(SourceError, match="not a JSON Lines position"):
        list(JsonLinesSource(path).read("row=3"))


def test_truncated_gzip_keeps_the_lines_before_the_damage(tmp_path):
    path = tmp_path / "cut.jsonl.gz"
    data = gzip.compress(("\n".join(json.dumps(dict(POSTS[0], id=str(i)), ensure_ascii=False)
                                    for i in range(2000)) + "\n").encode())
    path.write_bytes(data[: len(data) // 2])
    events = list(JsonLinesSource(path).read(None))
    assert len(items(events)) > 100
    assert "corrupt or truncated" in events[-1].reason


# -- CSV ---------------------------------------------------------------------------------------

CSV_TEXT = (
    "标题,内容,发布时间,平台,链接,账号,comments\n"
    "醋泡黑豆,\"听说醋泡黑豆能降血压，\n每天一勺\",2024-03-01 08:00,微信公众号,https://example.org/a,养生小站,"
    "\"[{\"\"date\"\": \"\"2024-03-01 09:00\"\", \"\"text\"\": \"\"真的吗\"\", \"\"user_id\"\": \"\"u1\"\"}]\"\n"
    "接种提醒,流感疫苗接种点已开放,2024-03-02 10:00,网站,https://example.org/b,市疾控,\n"
)


def test_gb18030_csv_with_chinese_aliases_reads_right(tmp_path):
    path = tmp_path / "monitor.csv"
    path.write_bytes(CSV_TEXT.encode("gb18030"))
    source = CsvSource(path)
    events = list(source.read(None))
    assert source.detected_encoding == "gb18030"
    assert events[0].record == {
        "title": "醋泡黑豆", "text": "听说醋泡黑豆能降血压，\n每天一勺", "date": "2024-03-01 08:00",
        "platform": "微信公众号", "url": "https://example.org/a", "account": "养生小站",
        "comments": [{"date": "2024-03-01 09:00", "text": "真的吗", "user_id": "u1"}]}
    assert events[1].record["text"] == "流感疫苗接种点已开放"
    assert "comments" not in events[1].record


def test_utf8_gzipped_csv_and_resume(tmp_path):
    path = tmp_path / "monitor.csv.gz"
    path.write_bytes(gzip.compress(CSV_TEXT.encode("utf-8")))
    source = file_source(path)
    assert isinstance(source, CsvSource)
    events = list(source.read(None))
    assert len(events) == 2
    assert [e.record["title"] for e in source.read(events[0].position)] == ["接种提醒"]
    assert list(source.read(events[1].position)) == []


def test_explicit_encoding_wins_and_wrong_bytes_are_rejected_per_row(tmp_path):
    path = tmp_path / "monitor.csv"
    path.write_bytes("text,date\n".encode() + "流感疫苗接种点已开放,2024-03-02\n".encode("gb18030"))
    events = list(CsvSource(path, encoding="utf-8").read(None))
    [bad] = events
    assert bad.reason.startswith("line 2: undecodable bytes for utf-8")
    assert "pass encoding='gb18030'" in bad.reason
    [good] = CsvSource(path, encoding="gb18030").read(None)
    assert good.record == {"text": "流感疫苗接种点已开放", "date": "2024-03-02"}


def test_undecodable_header_is_a_source_error(tmp_path):
    path = tmp_path / "monitor.csv"
    path.write_bytes(CSV_TEXT.encode("gb18030"))
    with pytest.raises(SourceError, match="header row is not valid utf-8"):
        list(CsvSource(path, encoding="utf-8").read(None))


def test_csv_bad_rows_are_rejected_with_reasons(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("text,date,reposts\n"
                    "正常的一条,2024-03-01,\n"
                    "列数不对\n"
                    "转发列表坏了,2024-03-01,[{oops\n"
                    "转发不是列表,2024-03-01,{\"a\": 1}\n"
                    "最后一条,2024-03-03,\n", encoding="utf-8")
    events = list(CsvSource(path).read(None))
    assert [e.record["text"] for e in items(events)] == ["正常的一条", "最后一条"]
    reasons = [e.reason for e in rejects(events)]
    assert reasons[0] == "line 3: expected 3 fields as in the header, found 1"
    assert reasons[1].startswith("line 4: column reposts: invalid JSON list")
    assert reasons[2].startswith("line 5: column reposts: expected a JSON list")


def test_csv_without_header_is_a_source_error(tmp_path):
    path = tmp_path / "noheader.csv"
    path.write_text("听说喝醋能软化血管,2024-03-01\n", encoding="utf-8")
    with pytest.raises(SourceError, match="header naming a text or title column"):
        list(CsvSource(path).read(None))


def test_csv_long_text_passes_the_csv_field_limit(tmp_path):
    big = "长" * 300_000
    path = tmp_path / "big.csv"
    path.write_text(f"text\n{big}\n", encoding="utf-8")
    [event] = CsvSource(path).read(None)
    assert event.record["text"] == big


def test_utf16_file_gets_a_clear_error(tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes("内容,发布时间\n网传喝醋软化血管,2024-03-01\n".encode("utf-16"))
    with pytest.raises(SourceError, match="is UTF-16 text; save it as UTF-8 or GB18030"):
        list(CsvSource(path).read(None))
