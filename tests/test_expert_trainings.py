"""专家培训 (seed 001, 18: "采取有效方式开展业务培训，提升科普专家的创作能力和应用新媒体技术传播科普知识的
能力"; 15: the pool managed dynamically): the office records the trainings held for the pool's experts
with the experts who took part; the roster, 专家履职情况, the reports and each expert's workbench say
it. They are not the correspondents' trainings, whose half-years are judged."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import report_fixtures as rfx
from workflow_helpers import ROSTER_CSV, run_page, seed_workflow_db

from rumourwatch import experts, performance, reports, store, trainings
from rumourwatch.alerts import WorkflowError

NOW = rfx.NOW  # 23 November 2026, 16:00 in Beijing


@pytest.fixture
def rdb():
    db = store.open_db(memory=True)
    fixtures = rfx.build_all(db)  # experts 张示例, 李示例, 王示例; units; W46–W47 of work
    return db, fixtures


def train(db, experts: list[int], held_on=date(2026, 11, 20), title="健康科普创作与新媒体传播培训班", now=NOW, **kw):
    return trainings.record(db, held_on=held_on, title=title, audience="experts", expert_ids=experts,
                            actor="admin1", now=now, **kw)


def test_an_experts_training_is_recorded_with_its_experts_apart_from_the_correspondents(rdb):
    db, fx = rdb
    zhang, li = fx["experts"]["张示例"], fx["experts"]["李示例"]
    half = trainings.half_status(db, NOW)
    done = train(db, [zhang, li], note="市卫健委三楼会议室")
    assert (done["audience"], done["experts"], done["expert_names"], done["units"]) == ("experts", 2, "张示例、李示例", 0)
    assert [t["id"] for t in store.list_trainings(db, audience="experts")] == [done["id"]]
    # the correspondents' register and their half-year are untouched
    assert store.list_trainings(db) == [] and store.trained_units(db) == {}
    assert trainings.half_status(db, NOW)["held"] == half["held"] == 0
    train(db, [li], held_on=date(2026, 10, 9), title="辟谣稿件规范培训")
    record = store.trained_experts(db)
    assert record[li] == {"n": 2, "held_on": "2026-11-20", "title": "健康科普创作与新媒体传播培训班"}
    assert record[zhang]["n"] == 1 and fx["experts"]["王示例"] not in record
    assert store.trained_experts(db, "2026-11-01", "2026-12-01")[li]["n"] == 1
    [entry] = store.audit_entries(db, target_type="training", limit=1)
    assert (entry["action"], entry["actor"]) == ("training.record", "admin1")


@pytest.mark.parametrize("chosen,key", [([], "training_no_experts"), ([999], "training_expert")])
def test_an_experts_training_without_its_experts_is_refused_and_nothing_is_written(rdb, chosen, key):
    db, _ = rdb
    with pytest.raises(WorkflowError) as refused:
        train(db, chosen)
    assert refused.value.key == key
    assert store.list_trainings(db, audience="experts") == [] and store.trained_experts(db) == {}


def test_an_expert_out_of_the_pool_is_refused(rdb):
    db, fx = rdb
    store.set_expert_active(db, fx["experts"]["王示例"], False, "2026-11-01T00:00:00Z")
    with pytest.raises(WorkflowError) as refused:
        train(db, [fx["experts"]["张示例"], fx["experts"]["王示例"]])
    assert (refused.value.key, refused.value.params["expert"]) == ("training_expert", "王示例")


def test_performance_counts_each_experts_trainings_in_the_period():
    db = store.open_db(memory=True)
    experts.import_roster(db, ROSTER_CSV, "admin", NOW)
    ids = {e["name"]: e["id"] for e in store.list_experts(db)}
    train(db, [ids["李样本"]])
    train(db, [ids["李样本"]], held_on=date(2026, 9, 9), title="九月的培训")  # before the period
    train(db, [ids["李样本"]], held_on=date(2026, 11, 23), title="今天的培训")  # after the period
    november = ("2026-11-01T16:00:00Z", "2026-11-22T16:00:00Z")  # Beijing's 2–22 November
    rows = {r["name"]: r for r in performance.performance(db, *november)}
    assert (rows["李样本"]["trainings"], rows["张示例"]["trainings"]) == (1, 0)
    csv_text = performance.performance_csv(list(rows.values()))
    header = csv_text.lstrip("\ufeff").splitlines()[0].split(",")
    li_row = next(line.split(",") for line in csv_text.splitlines() if line.startswith("李样本"))
    assert li_row[header.index("参加培训")] == "1"


def test_the_reports_say_the_periods_experts_trainings_with_or_without_tasks(rdb):
    db, fx = rdb
    december = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    train(db, [fx["experts"]["张示例"], fx["experts"]["李示例"]])
    notice = reports.compute_monthly(db, rfx.MONTH, now=december)
    line = "本月举办专家培训 1 次（11-20《健康科普创作与新媒体传播培训班》），参训专家 2 位。"
    assert line in reports.experts_lines(notice)
    assert line in reports.render_markdown(notice)
    # a week without tasks still says its training, in every format
    train(db, [fx["experts"]["王示例"]], held_on=date(2026, 11, 30), title="月末培训", now=december)
    week = reports.compute_weekly(db, "2026-W49", now=december + timedelta(days=7))
    assert week.section("experts").message
    said = "本周举办专家培训 1 次（11-30《月末培训》），参训专家 1 位。"
    assert reports.expert_training_lines(week) == [said]
    for text in (reports.render_markdown(week), reports.render_html(week, charts=False)):
        assert said in text
    # a week without any says nothing of them
    assert reports.expert_training_lines(reports.compute_weekly(db, "2026-W45", now=december)) == []


def test_the_admin_records_a_training_on_the_pool_page_and_the_expert_reads_it(tmp_path, monkeypatch):
    path = tmp_path / "pool.db"
    now = datetime.now(UTC).replace(microsecond=0)
    info = seed_workflow_db(path, now)
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    at = run_page("workbench.py", "li", path)
    assert any(c.value == "您尚未参加登记在册的专家培训。" for c in at.caption)
    at = run_page("expert_pool.py", "admin1", path)
    at.text_input(key="etrain_title_0").set_value("健康科普创作培训班")
    next(b for b in at.button if b.label == "登记培训").click()
    at.run()
    assert [e.value for e in at.error] == ["操作未完成：请选择参训专家。未登记任何内容。"]
    li = info["experts"]["李样本"]
    at.multiselect(key="etrain_experts_0").set_value([e for e in at.multiselect(key="etrain_experts_0").options
                                                      if e.startswith("李样本")])
    next(b for b in at.button if b.label == "登记培训").click()
    at.run()
    assert not at.exception, at.exception
    today = now.astimezone(rfx.CST).date().isoformat()
    assert any(f"已登记专家培训 #1（{today}，参训专家 1 位）" in s.value for s in at.success)
    roster = next(df.value for df in at.dataframe if "最近参训" in df.value.columns).set_index("姓名")
    assert roster.loc["李样本", "最近参训"] == today and roster.loc["王虚构", "最近参训"] == "—"
    held = next(df.value for df in at.dataframe if "参训专家" in df.value.columns)
    assert list(held["参训专家"]) == ["李样本"]
    perf = next(df.value for df in at.dataframe if "参加培训" in df.value.columns).set_index("姓名")
    assert perf.loc["李样本", "参加培训"] == "1"
    at = run_page("workbench.py", "li", path)
    assert any(c.value == f"您最近一次参加专家培训：{today}《健康科普创作培训班》（共参加 1 次）。" for c in at.caption)
    assert store.trained_experts(store.open_db(path))[li]["n"] == 1
