"""Posts in a script the models cannot read (Mongolian, Tibetan, Uyghur: DOMAIN.md 11) are left
unassessed instead of getting a guess from models trained on Chinese: in score-file, in the live
store, in the opinion counts and on the item view. Chinese, bilingual, Latin and emoji posts are
scored as before. (Fictional sample sentences.)"""

from __future__ import annotations

import json
from datetime import timedelta

import dashboard_fixtures as fx
import pytest

from dashboard import data
from rumourwatch import store
from rumourwatch.ingest import ingest_events
from rumourwatch.language import unread_language
from rumourwatch.score import score_file, score_pending
from rumourwatch.sources.base import RawItem

MONGOLIAN = "ᠡᠷᠡᠭᠦᠯ ᠮᠡᠨᠳᠦ ᠶᠢᠨ ᠠᠵᠢᠯ ᠤᠨ ᠲᠤᠬᠠᠢ ᠮᠡᠳᠡᠭᠡ ᠃ ᠬᠦᠮᠦᠨ ᠪᠦᠷ ᠡᠮᠨᠡᠯᠭᠡ ᠶᠢᠨ ᠭᠠᠵᠠᠷ ᠲᠤ ᠣᠴᠢᠵᠤ ᠡᠮᠴᠢ ᠳᠦ ᠦᠵᠡᠭᠦᠯᠬᠦ"
TIBETAN = "བོད་ཀྱི་གསོ་བ་རིག་པ། ནད་གཞི་འདི་ལ་སྨན་བཅོས་བྱེད་དགོས།"
UYGHUR = "ساغلاملىق ئۈچۈن ھەر كۈنى يېتەرلىك سۇ ئىچىڭ، دوختۇرغا كۆرۈنۈڭ"
CHINESE = "网传每天空腹喝三杯白醋可以软化血管，一个月治好高血压，医生都不会告诉你这个秘方！"


@pytest.mark.parametrize("text,expected", [
    (MONGOLIAN, "mn"), (TIBETAN, "bo"), (UYGHUR, "ug"),
    (CHINESE, None),
    (f"{MONGOLIAN} {CHINESE}", None),              # bilingual: the models read its Chinese
    ("内蒙古自治区卫生健康委员会提醒 ᠡᠷᠡᠭᠦᠯ", None),  # a Mongolian word or name in a Chinese post
    (f"{CHINESE[:8]} {MONGOLIAN}", "mn"),           # mostly Mongolian with a few Chinese words
    ("Drinking hot water kills the virus, share with your family!", None),
    ("😀😀😀 #武汉加油#", None), ("", None), (None, None),
])
def test_the_script_a_post_is_written_in(text, expected):
    assert unread_language(text) == expected


class RecordingBundle:
    """The test double of conftest.RuleBundle that also keeps what it was given."""

    def __init__(self, inner):
        self.inner, self.version, self.manifest, self.seen = inner, inner.version, inner.manifest, []

    def score(self, docs):
        self.seen += [d.text for d in docs]
        return self.inner.score(docs)


def test_score_file_leaves_unreadable_posts_unassessed_and_says_why(tmp_path, rule_bundle):
    src, out = tmp_path / "in.jsonl", tmp_path / "out.jsonl"
    rows = [{"id": "zh", "text": "转发：" + CHINESE}, {"id": "mn", "text": MONGOLIAN, "date": "2026-11-23 10:00"},
            {"id": "bo", "text": TIBETAN}, {"id": "en", "text": "Hot water kills the virus"}]
    src.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    bundle = RecordingBundle(rule_bundle)
    counts = score_file(src, out, bundle)
    assert counts == {"scored": 2, "errors": 0, "unassessed": 2}
    got = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [g["id"] for g in got] == ["zh", "mn", "bo", "en"]  # one line per input line, in order
    assert got[0]["rumour_probability"] == pytest.approx(0.4) and got[0]["is_rumour"] is False
    for g, language, name in ((got[1], "mn", "Mongolian"), (got[2], "bo", "Tibetan")):
        assert (g["rumour_probability"], g["is_rumour"], g["polarity"], g["health_related"]) == (None,) * 4
        assert g["language"] == language and g["model_version"] == rule_bundle.version
        assert f"written in {name} script" in g["warning"] and "not assessed" in g["warning"]
    assert got[3]["rumour_probability"] is not None  # Latin script: read as before
    assert bundle.seen == ["转发：" + CHINESE, "Hot water kills the virus"]  # the models never saw the others


def test_the_live_store_keeps_an_unreadable_post_unassessed_and_out_of_the_opinion_ratios(db, now, rule_bundle):
    with store.transaction(db):
        ingest_events(db, [RawItem({"id": "mn1", "platform": "微博", "account": "示例账号", "text": MONGOLIAN,
                                    "date": "2026-11-23 15:00"}),
                           RawItem({"id": "zh1", "platform": "微博", "account": "示例账号", "text": CHINESE,
                                    "date": "2026-11-23 15:00"})], "test", now)
    assert score_pending(db, rule_bundle, now) == 2
    mn = store.get_item(db, store.find_item(db, "微博", "mn1")["id"])
    assert mn["scored_at"] is not None and mn["model_version"] == rule_bundle.version  # not pending again
    assert (mn["rumour_probability"], mn["is_rumour"], mn["polarity"], mn["health_related"]) == (None,) * 4
    assert score_pending(db, rule_bundle, now + timedelta(minutes=5)) == 0
    counts = store.polarity_counts(db, "2026-11-23T00:00:00Z", "2026-11-24T00:00:00Z")
    assert sum(counts[p] for p in ("positive", "neutral", "negative")) == 1  # the Chinese post only


@pytest.fixture
def mongolian_item(tmp_path, monkeypatch, rule_bundle) -> int:
    """The dashboard's fixture store with one Mongolian post, scored alone (the fixture's items keep
    their scores); the dashboard pointed at it."""
    path = tmp_path / "lang.db"
    fx.build_store(path)
    item_id = fx.add_scored_item(path, rule_bundle, "mn1", MONGOLIAN, "2026-11-23 11:00")
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW)
    return item_id


def test_the_item_view_asks_for_a_human_reading(mongolian_item):
    at = fx.open_app("app_pages/item.py", item=mongolian_item)
    assert [m.value for m in at.metric][:1] == ["未评估"]
    assert any(w.value.startswith("本条主要以蒙古文书写。模型只读中文") for w in at.warning)
    assert "模型只读中文，未评估本条，因此没有判定依据。" in [i.value for i in at.info]  # the 判定依据 tab


def test_the_live_opinion_line_counts_an_unassessed_post_apart(mongolian_item):
    at = fx.open_app()
    assert fx.EXPECTED_OPINION in [m.value.lstrip("# ") for m in at.markdown]  # the ratios are unchanged
    assert "另有 2 条尚未评分或模型无法评估（如蒙古文、藏文、维吾尔文内容），未计入比例。" in [c.value for c in at.caption]
