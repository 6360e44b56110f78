"""通讯员培训 (seed 002 §四(四): 常态化举办卫健系统通讯员培训，原则上每半年开展一次): the office records
the trainings held for the units' correspondents; the page, 系统自检 and the reports say whether each
half-year had its training."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import dashboard_fixtures as fx
import pytest
from test_submissions import NOW, UNITS, add_units, page_env  # noqa: F401  (the page's store)

from rumourwatch import reports, selfcheck, store, trainings
from rumourwatch.alerts import WorkflowError


@pytest.fixture
def units(db):
    return add_units(db)


def record(db, units, codes=("U1", "U2"), held_on=date(2026, 11, 20), title="2026 年下半年通讯员培训班", **kw):
    return trainings.record(db, held_on=held_on, title=title, unit_ids=[units[c]["id"] for c in codes],
                            actor="monitor1", now=NOW, **kw)


def test_a_training_is_recorded_with_its_units_and_this_half_year_has_had_it(db, units):
    before = trainings.half_status(db, NOW)
    assert (before["year"], before["half"], before["held"], before["days_left"], before["due_soon"]) == (
        2026, 2, 0, 39, True)  # 23 November: 39 days left in the half, none held
    assert not trainings.half_status(db, datetime(2026, 8, 3, 4, tzinfo=UTC))["due_soon"]  # months left
    done = record(db, units, attendees=36, note="市卫健委三楼会议室")
    assert (done["held_on"], done["units"], done["unit_names"], done["attendees"], done["recorded_by"]) == (
        "2026-11-20", 2, "城区卫生健康局、市疾病预防控制中心", 36, "monitor1")
    after = trainings.half_status(db, NOW)
    assert (after["held"], after["due_soon"], after["trainings"][0]["id"]) == (1, False, done["id"])
    # the first half of the year is another half: its training does not count for this one
    record(db, units, held_on=date(2026, 5, 12), title="上半年培训", codes=("U1",))
    assert trainings.half_status(db, NOW)["held"] == 1
    assert trainings.half_status(db, datetime(2026, 6, 1, tzinfo=UTC))["held"] == 1
    last = store.trained_units(db)
    assert last[units["U1"]["id"]]["held_on"] == "2026-11-20" and last[units["U2"]["id"]]["title"] == done["title"]
    [entry, _] = store.audit_entries(db, target_type="training")[::-1]
    assert (entry["action"], entry["actor"], entry["target_id"]) == ("training.record", "monitor1", str(done["id"]))


@pytest.mark.parametrize("kwargs,key", [
    ({"title": " "}, "training_title_missing"),
    ({"title": "培" * 81}, "training_text_long"),
    ({"held_on": date(2026, 11, 24)}, "training_future"),  # tomorrow in Beijing
    ({"attendees": 0}, "training_attendees"),
    ({"codes": ()}, "training_no_units"),
    ({"codes": ("U1", "U3")}, "training_unit"),  # U3 was closed
])
def test_a_training_that_cannot_be_recorded_is_refused_saying_why_and_nothing_is_written(db, units, kwargs, key):
    with pytest.raises(WorkflowError) as refused:
        record(db, units, **kwargs)
    assert refused.value.key == key
    assert store.list_trainings(db) == [] and store.trained_units(db) == {}
    assert store.audit_entries(db, target_type="training") == []


def test_a_training_recorded_by_mistake_is_removed_with_its_reason_and_no_longer_counts(db, units):
    done = record(db, units)
    with pytest.raises(WorkflowError) as refused:
        trainings.remove(db, done["id"], reason="  ", actor="monitor1", now=NOW)
    assert refused.value.key == "training_reason_missing" and store.list_trainings(db)
    gone = trainings.remove(db, done["id"], reason="重复登记", actor="monitor1", now=NOW + timedelta(minutes=5))
    assert (gone["removed_by"], gone["remove_reason"]) == ("monitor1", "重复登记")
    assert store.list_trainings(db) == [] and store.trained_units(db) == {}
    assert trainings.half_status(db, NOW)["due_soon"]
    with pytest.raises(WorkflowError) as again:
        trainings.remove(db, done["id"], reason="再删", actor="monitor1", now=NOW)
    assert again.value.key == "training_missing"
    assert [e["action"] for e in store.audit_entries(db, target_type="training")] == ["training.remove",
                                                                                     "training.record"]


def test_the_reports_list_the_trainings_and_the_annual_report_judges_each_half_year():
    import report_fixtures as rfx

    db = store.open_db(memory=True)
    rfx.build_all(db)
    units = {u["name"]: u for u in store.list_units(db)}
    county = units[rfx.UNIT_COUNTY]
    trainings.record(db, held_on=date(2026, 11, 12), title="下半年通讯员培训", unit_ids=[county["id"]],
                     actor="m", now=NOW, attendees=20)
    new_year = datetime(2027, 1, 1, 2, 0, tzinfo=UTC)
    notice = reports.compute_monthly(db, rfx.MONTH, now=new_year)
    lines = reports.units_lines(notice)
    assert "本月举办通讯员培训 1 次：11 月 12 日《下半年通讯员培训》（参训单位 1 个、20 人次）。" in lines
    october = reports.units_lines(reports.compute_monthly(db, "2026-10", now=new_year))
    assert not any("通讯员培训" in line for line in october)  # a month without one says nothing
    annual = reports.units_lines(reports.compute_annual(db, "2026", now=new_year))
    # the first half ended before the platform collected anything (November): not judged
    assert ("通讯员培训原则上每半年开展一次：2026 年上半年举办 0 次（平台尚无该半年的数据，不判定）；"
            "2026 年下半年举办 1 次（达到要求）。" in annual)
    others = [name for name in units if name != rfx.UNIT_COUNTY]
    assert f"本年度未参加通讯员培训的单位 {len(others)} 个：{'、'.join(others)}。" in annual
    # a year with data in both halves judges the first one too
    db.execute("UPDATE items SET published_at = '2026-03-02T02:00:00Z' WHERE id = (SELECT min(id) FROM items)")
    annual = reports.units_lines(reports.compute_annual(db, "2026", now=new_year))
    assert ("通讯员培训原则上每半年开展一次：2026 年上半年举办 0 次（未达到要求）；2026 年下半年举办 1 次（达到要求）。"
            in annual)
    # a quarter whose half is still running is not judged yet; one without a training says so
    q3 = reports.units_lines(reports.compute_quarterly(db, "2026-Q3", now=fx.NOW))
    assert "本季度未举办通讯员培训。" in q3
    assert "通讯员培训原则上每半年开展一次：2026 年下半年举办 1 次（达到要求）。" in q3
    trainings.remove(db, 1, reason="误登记", actor="m", now=NOW)
    q4 = reports.units_lines(reports.compute_quarterly(db, "2026-Q4", now=fx.NOW))
    assert "通讯员培训原则上每半年开展一次：2026 年下半年举办 0 次（该半年尚未结束）。" in q4
    assert "本季度未举办通讯员培训。" in reports.render_markdown(reports.compute_quarterly(db, "2026-Q4", now=fx.NOW))


def test_self_check_warns_in_a_half_years_last_two_months_without_a_training(db, units):
    def keys(now):
        return [f.key for f in selfcheck.check_reports(db, now)]

    assert "reports.training_due" in keys(NOW)
    [due] = [f for f in selfcheck.check_reports(db, NOW) if f.key == "reports.training_due"]
    assert due.params == {"year": 2026, "half": "下半年", "days": 39} and due.level == "warning"
    assert "reports.training_due" not in keys(datetime(2026, 9, 1, tzinfo=UTC))
    record(db, units)
    assert "reports.training_due" not in keys(NOW)


# --- the page ---------------------------------------------------------------------------------

def _page(username: str):
    at = fx.open_app("app_pages/submissions.py", username)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _press(at, label: str):
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_the_office_records_a_training_and_the_unit_reads_it(page_env):  # noqa: F811
    li = _page("li")
    assert any("本单位尚无参加通讯员培训的记录" in c.value for c in li.caption)
    at = _page(fx.MONITOR)
    assert any("2026 年下半年尚未举办通讯员培训，距半年结束还有 39 天" in w.value for w in at.warning)
    at.text_input(key="train_title_0").set_value("2026 年下半年通讯员培训班")
    at.multiselect(key="train_units_0").set_value([])
    at = _press(at, "登记培训")
    assert [e.value for e in at.error] == ["操作未完成：请选择参加培训的单位（至少一个）。未登记任何内容。"]
    assert at.text_input(key="train_title_0").value == "2026 年下半年通讯员培训班"  # kept to complete
    at.multiselect(key="train_units_0").set_value([store.find_unit(store.open_db(page_env), "U1")])
    at.number_input(key="train_people_0").set_value(12)
    at = _press(at, "登记培训")
    assert any(f"已登记通讯员培训 #1（{fx.NOW.date()}，参训单位 1 个）" in s.value for s in at.success)
    assert any("2026 年下半年已举办通讯员培训 1 次" in s.value for s in at.success)
    table = next(df.value for df in at.dataframe if "参训单位数" in df.value.columns)
    assert (list(table["培训名称"]), list(table["参训单位"]), list(table["人次"])) == (
        ["2026 年下半年通讯员培训班"], [UNITS[0]["name"]], ["12"])
    assert any(f"未参加通讯员培训的单位 1 个：{UNITS[1]['name']}" in w.value for w in at.warning)
    months = next(df.value for df in at.dataframe if "最近参训" in df.value.columns)
    trained = dict(zip(months["单位"], months["最近参训"], strict=True))
    assert (trained[UNITS[0]["name"]], trained[UNITS[1]["name"]]) == (str(fx.NOW.date()), "")
    li = _page("li")
    assert any(f"本单位最近一次参加通讯员培训：{fx.NOW.date()}《2026 年下半年通讯员培训班》" in c.value for c in li.caption)
    # removed with its reason: no longer counted
    at.text_input(key="train_remove_reason").set_value("重复登记")
    at = _press(at, "删除")
    assert any("已删除培训记录 #1" in s.value for s in at.success)
    assert any("尚未举办通讯员培训" in w.value for w in at.warning)
