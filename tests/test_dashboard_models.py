"""The analysts' 模型与评估 page: the model in use, how its flags agreed with the verdicts recorded
(with the score the monitor saw when judging, never one computed later), the time-ordered
evaluation of the model card, and who may open the page."""

from __future__ import annotations

import json

import dashboard_fixtures as fx
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import data
from dashboard.auth import login_for_test
from rumourwatch import auth, store
from rumourwatch.evaluation import verdict_check

ANALYST = fx.ANALYST
MANIFEST = {"version": "20261120T080000Z-abcdef12", "created_at": "2026-11-20T08:00:00Z", "threshold": 0.43, "threshold_range": [0.36, 0.55],
            "components": {"rumour": "RumourModel", "polarity": "PolarityModel"},
            "missing_components": ["debunks"],
            "training_counts": {"ced": {"items": 2370, "rumours": 1036}, "verdicts": {"items": 12, "rumours": 5}},
            "trained_until": {"ced": "2013-04-17T02:41:00Z", "verdicts": "2026-11-19T10:00:00Z"}}


@pytest.fixture
def judged(tmp_path, monkeypatch):
    path = tmp_path / "models-page.db"
    ids = fx.build_store(path)
    fx.add_verdicts(path, ids)
    models_dir, cards_dir = tmp_path / "models", tmp_path / "cards"
    models_dir.mkdir()
    cards_dir.mkdir()
    (models_dir / "manifest.json").write_text(json.dumps(MANIFEST), encoding="utf-8")
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(models_dir))
    monkeypatch.setenv("RUMOURWATCH_CARDS_DIR", str(cards_dir))
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW)
    return path, ids, models_dir, cards_dir


def test_each_verdict_is_checked_against_the_score_the_monitor_saw(judged):
    path, ids, _, _ = judged
    db = store.open_db(path, read_only=True)
    rows = store.verdict_scores(db)
    db.conn.close()
    by_item = {r["item_id"]: r for r in rows}
    assert by_item[ids["w1"]]["rumour_probability"] == pytest.approx(0.61)  # not the 0.92 computed later
    assert by_item[ids["f1"]]["model_version"] == "test-v1"  # the rescoring after the verdict is not used
    assert by_item[ids["n1"]]["verdict"] == "not_rumour"
    assert by_item[ids["no_author"]]["rumour_probability"] is None

    check = verdict_check(rows)
    assert (check["judged"], check["unscored"]) == (5, 1)  # n2's 无法核实 is not a label
    overall = check["overall"]
    assert (overall["n"], overall["rumours"]) == (4, 2)
    assert (overall["flagged_confirmed"], overall["flagged_dismissed"], overall["missed"], overall["cleared"]) == \
        (1, 1, 1, 1)
    assert overall["precision"] == overall["recall"] == 0.5
    # four verdicts say little: the interval around their macro-F1 says so
    lo, hi = overall["macro_f1_interval"]
    assert lo <= overall["macro_f1"] <= hi and hi - lo >= 0.5
    # disagreements, the most confident first: f1 scored 0.04 but was a rumour; c1 scored 0.88 but was not
    assert [r["item_id"] for r in check["misses"]] == [ids["f1"], ids["c1"]]
    assert [v["version"] for v in check["by_version"]] == ["test-v1"]
    assert [w["week"] for w in check["by_week"]] == ["2026-11-23"]


def _page(username: str = ANALYST) -> AppTest:
    at = AppTest.from_file(str(fx.ROOT / "dashboard" / "app_pages" / "models.py"), default_timeout=30)
    login_for_test(at, username)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _shown(elements) -> list[str]:
    """Texts as rendered: the Markdown escapes the page puts before data-derived characters dropped."""
    return [e.value.replace("\\", "") for e in elements]


def _metric(at, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_analyst_sees_the_model_in_use_and_its_agreement_with_verdicts(judged):
    _, ids, _, _ = judged
    at = _page()
    assert not at.error, [e.value for e in at.error]
    assert any(MANIFEST["version"] in c and "2026-11-20 16:00" in c for c in _shown(at.caption))
    assert _metric(at, "训练条目") == "2,382"
    assert _metric(at, "模型判定阈值") == "0.43"
    # how firmly the calibration slice supports it, so an alert threshold can be chosen knowingly
    assert any("九成落在 0.36–0.55" in c for c in _shown(at.caption))
    # the dashboard's own 疑似谣言 line (0.5 by default) differs, and the page says how to align them
    assert any("看板线" in c and "当前 50%" in c and "设为 0.43" in c for c in _shown(at.caption))
    assert _metric(at, "模型组件") == "2 / 3"
    assert any("debunks" in w.value for w in at.warning)  # a missing component is named
    training = at.dataframe[0].value
    assert list(training["数据集"]) == ["CED 微博谣言", "人工核定"]

    assert _metric(at, "已核定条目") == "4"
    assert _metric(at, "精确率") == "50.0%"
    assert _metric(at, "召回率") == "50.0%"
    assert any("1 条核定在核定前尚未评分" in c.value for c in at.caption)
    # how little four verdicts say is on the page, beside the figure and per model version
    assert any(c.value.startswith("宏平均 F1 的 95% 区间：") and "（4 条核定" in c.value for c in at.caption)
    by_version = next(df.value for df in at.dataframe if "模型版本" in df.value.columns
                      and "宏平均 F1 的 95% 区间" in df.value.columns)
    assert " – " in by_version["宏平均 F1 的 95% 区间"].iloc[0]
    misses = next(df.value for df in at.dataframe if "核定前评分" in df.value.columns)
    assert list(misses["编号"]) == [ids["f1"], ids["c1"]]
    assert list(misses["核定"]) == ["确认谣言", "非谣言"]
    # no evaluation written to the cards directory yet: the page says how to make one
    assert any("rumourwatch evaluate" in i.value for i in at.info)


def test_a_bundle_without_a_threshold_range_shows_its_threshold_alone(judged):
    models_dir = judged[2]
    older = {k: v for k, v in MANIFEST.items() if k != "threshold_range"}  # bundles before 2026-12
    (models_dir / "manifest.json").write_text(json.dumps(older), encoding="utf-8")
    at = _page()
    assert _metric(at, "模型判定阈值") == "0.43"
    assert not any("九成落在" in c for c in _shown(at.caption))


def test_offline_evaluation_shows_the_cards_figures_beside_the_baseline(judged):
    cards_dir = judged[3]
    result = {"evaluated_at": "2026-11-30T11:06:00Z", "setup": {"train_fraction": 0.8,
                        "train": {"ced": {"items": 1896, "rumours": 720, "from": "2010-12-02", "to": "2013-01-21"}},
                        "test": {"ced": {"items": 474, "rumours": 316, "from": "2013-01-21", "to": "2013-04-17"}}},
              "results": {"model": {"ced": {"0h": {"n": 474, "macro_f1": 0.886, "precision": 0.941, "recall": 0.902,
                                                   "pr_auc": 0.95, "brier": 0.09, "ece": 0.069},
                                            "1h": {"n": 474, "macro_f1": 0.910, "precision": 0.95, "recall": 0.93,
                                                   "pr_auc": 0.98, "brier": 0.059, "ece": 0.032,
                                                   "interval": {"macro_f1": [0.884, 0.934],
                                                                "gain_over_baseline": [0.25, 0.35]}}}},
                          "baseline": {"ced": {"0h": {"macro_f1": 0.609}, "1h": {"macro_f1": 0.609}}}}}
    (cards_dir / "rumour_eval.json").write_text(json.dumps(result), encoding="utf-8")
    (cards_dir / "rumour.md").write_text("# Rumour model card\n\nLimits: community, not claim.\n", encoding="utf-8")
    at = _page()
    table = next(df.value for df in at.dataframe if "基线宏 F1" in df.value.columns)
    assert table.values.tolist()[1][:4] == ["CED 微博谣言", "1 小时", 474, "0.910"]
    assert list(table["基线宏 F1"]) == ["0.609", "0.609"]
    # the 1 h row carries its bootstrap intervals; the 0 h row, as written before intervals, none
    assert list(table["模型宏 F1 的 95% 区间"]) == ["—", "0.884 – 0.934"]
    assert list(table["较基线提升（95% 区间）"]) == ["+0.277", "+0.301（+0.250 – +0.350）"]
    assert any("同一内容的转载副本" in c.value for c in at.caption)
    assert any("较早 80% 训练、较晚 20% 测试" in c.value and "评估完成于 2026-11-30 19:06" in c.value
               for c in at.caption)
    assert any("Limits: community, not claim." in m.value for m in at.markdown)


def test_without_verdicts_or_models_the_page_says_what_to_do(tmp_path, monkeypatch):
    path = tmp_path / "empty.db"
    fx.build_store(path)
    db = store.open_db(path)
    auth.create_user(db, ANALYST, fx.ANALYST_PASSWORD, "analyst", actor="test")
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("RUMOURWATCH_CARDS_DIR", str(tmp_path / "none"))
    at = _page()
    assert not at.error, [e.value for e in at.error]
    assert any("rumourwatch train" in w.value for w in at.warning)
    assert any("尚无确认谣言 / 非谣言的核定" in i.value for i in at.info)


def test_a_broken_manifest_is_named_and_the_other_sections_still_show(judged):
    models_dir = judged[2]
    (models_dir / "manifest.json").write_text("{not json", encoding="utf-8")
    at = _page()
    manifest = models_dir / "manifest.json"
    assert f"无法读取文件 {manifest}：内容已损坏，或不是应有的格式。请重新运行生成该文件的命令" \
           "（rumourwatch train 或 rumourwatch evaluate）后刷新本页。" in _shown(at.error)
    assert any("manifest.json: unreadable" in e.code[0].value for e in at.expander)  # the English, for the admin
    assert _metric(at, "已核定条目") == "4"


def test_monitors_cannot_open_the_model_page(judged):
    at = _page(fx.MONITOR)
    assert any("无权" in e.value or "仅限" in e.value for e in at.error), [e.value for e in at.error]
    assert not [m for m in at.metric]
