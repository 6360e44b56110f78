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


def test_blank_lines_and_a_byte_order_mark_keep_every_output_on_its_input_line(tmp_path, rule_bundle):
    """Output line N answers input line N, so files are joined by position: a blank line gets an
    error line (not skipped), and a byte-order mark (files saved by Excel or Notepad) is no error."""
    src = tmp_path / "in.jsonl"
    body = "\n".join([json.dumps(dict(BASE, id="a"), ensure_ascii=False), "", "\u3000",
                      json.dumps(dict(BASE, id="d"), ensure_ascii=False)]) + "\n"
    src.write_bytes(b"\xef\xbb\xbf" + body.encode("utf-8"))
    counts = score_file(src, tmp_path / "out.jsonl", rule_bundle)
    out = read(tmp_path / "out.jsonl")
    assert [o["id"] for o in out] == ["a", 2, 3, "d"] and counts == {"scored": 2, "errors": 2}
    assert "error" not in out[0] and out[1]["error"] == "line 2: blank line, no record"


def test_a_broken_emoji_is_repaired_and_said_and_a_non_finite_id_is_refused(tmp_path, rule_bundle):
    src = tmp_path / "in.jsonl"
    write(src, [('{"id": "s", "text": "转发：吃大蒜能预防病毒感染\\ud83d", '
                 '"reposts": [{"date": "2026-11-20 10:30", "text": "这是谣言\\ude00"}]}'),
                '{"id": NaN, "text": "吃大蒜"}', dict(BASE, id="ok")])
    counts = score_file(src, tmp_path / "out.jsonl", rule_bundle)
    raw = (tmp_path / "out.jsonl").read_text(encoding="utf-8")
    out = [json.loads(line, parse_constant=pytest.fail) for line in raw.splitlines()]  # strict JSON
    assert counts == {"scored": 2, "errors": 1}
    assert 0 <= out[0]["rumour_probability"] <= 1
    assert out[0]["warning"].startswith("line 1: 2 unpaired surrogate escape(s)")
    assert out[1] == {"id": 2, "error": "line 2: id nan is not a finite number"}
    assert "warning" not in out[2]


def test_extreme_values_are_scored_not_fatal(tmp_path, rule_bundle):
    src = tmp_path / "in.jsonl"
    write(src, [dict(BASE, id="far", date="9999-12-31 23:00", reposts=[], comments=[]),
                dict(BASE, id="big", user={"followers": 10 ** 400}),
                # a year-less reaction date and no post date: undated, counted when all reactions are
                {"id": "undated", "text": "转发：喝醋能软化血管",
                 "reposts": [{"date": "05月21日 15:01", "text": "谣言"}]}])
    assert score_file(src, tmp_path / "out.jsonl", rule_bundle, as_of_hours=24) == {"scored": 2, "errors": 1}
    assert "needs the record's date" in read(tmp_path / "out.jsonl")[2]["error"]  # cannot place it in time
    assert score_file(src, tmp_path / "out.jsonl", rule_bundle) == {"scored": 3, "errors": 0}
    undated = read(tmp_path / "out.jsonl")[2]
    assert undated["rumour_probability"] == pytest.approx(0.6)  # its one doubting repost counted


@pytest.mark.parametrize("hours", [float("nan"), float("inf"), 1e300])
def test_a_decision_time_that_is_not_a_finite_number_of_hours_is_refused(tmp_path, rule_bundle, hours):
    src = tmp_path / "in.jsonl"
    write(src, [BASE])
    with pytest.raises(RecordError, match="--as-of-hours must be a number of hours from 0"):
        score_file(src, tmp_path / "out.jsonl", rule_bundle, as_of_hours=hours)


def test_output_paths_that_would_lose_data_are_refused_before_scoring(tmp_path, rule_bundle):
    src = tmp_path / "in.jsonl"
    write(src, [BASE, BASE])
    before = src.read_bytes()
    with pytest.raises(RecordError, match="is the input file"):
        score_file(src, src, rule_bundle)
    assert src.read_bytes() == before  # the input is untouched
    with pytest.raises(RecordError, match="directory .*missing.* does not exist"):
        score_file(src, tmp_path / "missing" / "out.jsonl", rule_bundle)


def test_a_truncated_gzip_has_its_readable_lines_scored_then_a_clear_error(tmp_path, rule_bundle):
    whole = gzip.compress("".join(json.dumps(dict(BASE, id=i), ensure_ascii=False) + "\n"
                                  for i in range(3000)).encode("utf-8"))
    src = tmp_path / "cut.jsonl.gz"
    src.write_bytes(whole[: len(whole) // 2])  # an interrupted download
    readable = 0
    try:
        with gzip.open(src, "rt", encoding="utf-8") as fh:
            for _ in fh:
                readable += 1
    except EOFError:
        pass
    with pytest.raises(RecordError, match=r"ends early or is damaged after line \d+") as err:
        score_file(src, tmp_path / "out.jsonl", rule_bundle)
    out = read(tmp_path / "out.jsonl")
    assert 0 < readable < 3000 and len(out) >= readable - 1  # all complete lines before the cut
    assert [o["id"] for o in out[:readable - 1]] == list(range(readable - 1))
    assert f"the {len(out)} line(s) read were scored and written" in str(err.value)


def test_a_pipe_is_read_once_gzip_or_not(tmp_path, rule_bundle):
    """/dev/stdin and <(zcat …) cannot be opened twice: the format is told from peeked bytes."""
    import os
    import threading

    for compress in (False, True):
        fifo = tmp_path / f"pipe{int(compress)}"
        os.mkfifo(fifo)
        payload = "".join(json.dumps(dict(BASE, id=i), ensure_ascii=False) + "\n" for i in range(3)).encode()
        payload = gzip.compress(payload) if compress else payload
        writer = threading.Thread(target=lambda f=fifo, p=payload: f.write_bytes(p))
        writer.start()
        counts = score_file(fifo, tmp_path / "out.jsonl", rule_bundle)
        writer.join()
        assert counts == {"scored": 3, "errors": 0}
        assert [o["id"] for o in read(tmp_path / "out.jsonl")] == [0, 1, 2]


def test_the_command_refuses_bad_arguments_before_loading_any_model(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from rumourwatch import cli as cli_module

    src = tmp_path / "in.jsonl"
    write(src, [BASE])
    monkeypatch.setattr(cli_module, "load_bundle", lambda *a, **k: pytest.fail("models loaded"))
    for args, message in (([str(src), "-o", str(src)], "is the input file"),
                          ([str(src), "-o", str(tmp_path / "no" / "o.jsonl")], "does not exist"),
                          ([str(src), "-o", str(tmp_path / "o.jsonl"), "--as-of-hours", "nan"], "number of hours")):
        result = CliRunner().invoke(cli_module.cli, ["score-file", *args])
        assert result.exit_code == 1 and result.output.startswith("Error: ") and message in result.output
