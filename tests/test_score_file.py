import gzip
import json

import pytest

from rumourwatch.errors import RecordError
from rumourwatch.score import score_file

BASE = {"text": "转发：吃大蒜能预防病毒感染", "date": "2026-11-20 10:00",
        "reposts": [{"date": "2026-11-20 10:30", "text": "这是谣言"},
                    {"date": "2026-11-20 13:00", "text": "假的，别信"}],
        "comments": [{"date": "2026-11-21 12:00", "text": "谣言！"}]}


def write(path, lines):
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "wt", encoding="utf-8") as fh:
        for line in lines:
            fh.write((line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)) + "\n")


def read(path):
    return [json.loads(l) for l in open(path, encoding="utf-8")]


def test_one_output_line_per_input_line_in_order_with_errors_in_place(tmp_path, rule_bundle):
    src = tmp_path / "in.jsonl.gz"
    write(src, [dict(BASE, id="a"), "{not json", dict(BASE, id="c", text=""), ["a", "list"],
                {"text": "无编号的普通帖子"}, dict(BASE, id="f", date="yesterday-ish")])
    counts = score_file(src, tmp_path / "out.jsonl", rule_bundle)
    out = read(tmp_path / "out.jsonl")
    assert [o["id"] for o in out] == ["a", 2, "c", 4, 5, "f"]
    assert counts == {"scored": 2, "errors": 4}
    assert set(out[0]) >= {"id", "rumour_probability", "is_rumour", "polarity", "health_related", "model_version"}
    assert 0 <= out[0]["rumour_probability"] <= 1 and isinstance(out[0]["is_rumour"], bool)
    assert out[0]["polarity"] in {"positive", "neutral", "negative"}
    assert "invalid JSON" in out[1]["error"] and "line 2" in out[1]["error"]
    assert "empty text" in out[2]["error"]
    assert "expected a JSON object" in out[3]["error"]
    assert "unreadable date" in out[5]["error"]


def test_as_of_hours_uses_only_reactions_within_the_window(tmp_path, rule_bundle):
    src = tmp_path / "in.jsonl"
    write(src, [dict(BASE, id="a")])
    probs = {}
    for hours in (0, 1, 6, None):
        score_file(src, tmp_path / "out.jsonl", rule_bundle, as_of_hours=hours)
        probs[hours] = read(tmp_path / "out.jsonl")[0]["rumour_probability"]
    # 0 h: text only; 1 h: one doubting repost; 6 h: two; all: three doubting reactions
    assert probs[0] == pytest.approx(0.4) and probs[1] == pytest.approx(0.6)
    assert probs[6] == pytest.approx(0.8) and probs[None] == pytest.approx(0.95)


def test_iso_dates_and_china_time_dates_are_both_read(tmp_path, rule_bundle):
    src = tmp_path / "in.jsonl"
    iso = dict(BASE, id="iso", date="2026-11-20T02:00:00Z",
               reposts=[{"date": "2026-11-20T02:30:00+00:00", "text": "这是谣言"}], comments=[])
    write(src, [iso])
    score_file(src, tmp_path / "out.jsonl", rule_bundle, as_of_hours=1)
    assert read(tmp_path / "out.jsonl")[0]["rumour_probability"] == pytest.approx(0.6)


def test_undecodable_line_is_reported_and_the_rest_go_on(tmp_path, rule_bundle):
    src = tmp_path / "in.jsonl"
    src.write_bytes(json.dumps({"id": 1, "text": "正常"}, ensure_ascii=False).encode() + b"\n"
                    + "{\"id\": 2, \"text\": \"坏编码\"}".encode("gb18030") + b"\n"
                    + json.dumps({"id": 3, "text": "正常"}).encode() + b"\n")
    score_file(src, tmp_path / "out.jsonl", rule_bundle)
    out = read(tmp_path / "out.jsonl")
    assert [o["id"] for o in out] == [1, 2, 3] and "not UTF-8" in out[1]["error"]


def test_negative_as_of_hours_is_refused(tmp_path, rule_bundle):
    src = tmp_path / "in.jsonl"
    write(src, [BASE])
    with pytest.raises(RecordError, match="as-of-hours"):
        score_file(src, tmp_path / "out.jsonl", rule_bundle, as_of_hours=-1)


def test_year_less_weibo_reaction_dates_are_placed_in_the_posts_year(tmp_path, rule_bundle):
    # CED stores some repost dates as Weibo shows this year's dates: '05月21日 15:01'. Such a line is
    # scored (not an error), and the reactions count at their real times for --as-of-hours.
    src = tmp_path / "in.jsonl"
    write(src, [{"id": "y", "text": "转发：喝醋能软化血管", "date": "2015-12-31 23:00",
                 "reposts": [{"date": "12月31日 23:30", "text": "谣言"},
                             {"date": "01月01日 04:00", "text": "假的"}]}])
    probs = {}
    for hours in (1, 6):
        score_file(src, tmp_path / "out.jsonl", rule_bundle, as_of_hours=hours)
        [out] = read(tmp_path / "out.jsonl")
        assert "error" not in out
        probs[hours] = out["rumour_probability"]
    assert probs[1] == pytest.approx(0.6) and probs[6] == pytest.approx(0.8)  # 2016-01-01 04:00 is 5 h later
