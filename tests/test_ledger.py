"""预警处置台账: the CSV of a period's alerts with how each was handled, as a monitoring office keeps
it in Excel: clocks met or missed, the expert, the clarification's link, a dismissal's reason."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from click.testing import CliRunner
from workflow_helpers import ROSTER_CSV, RUMOUR_TEXT, add_item, rules

from rumourwatch import alerts, experts, ledger, store
from rumourwatch.cli import cli
from rumourwatch.clock import FixedClock


def _rows(text: str) -> list[dict]:
    assert text.startswith("\ufeff")  # opens in Excel as UTF-8
    return list(csv.DictReader(io.StringIO(text[1:])))


def _handled_alerts(db, now):
    """Three alerts raised at `now`: one clarified by an expert within the clock, one dismissed, one
    left open; and one raised two days later."""
    experts.import_roster(db, ROSTER_CSV, "admin", now)
    roster = {e["name"]: e["id"] for e in store.list_experts(db)}
    clock = FixedClock(now)
    add_item(db, RUMOUR_TEXT, now, reposts=300)
    add_item(db, "网传示例牌保健茶能根治糖尿病，停掉胰岛素也没关系", now, reposts=600)
    add_item(db, "网传喝板蓝根能预防所有病毒", now, probability=0.1)
    clarified, dismissed, watched = alerts.evaluate_alerts(db, now, rules(watch={"keywords": ["板蓝根"]}))
    aid = experts.assign_expert(db, clarified, roster["李样本"], "monitor1", clock(), rules())
    experts.accept_assignment(db, aid, "li", clock.advance(minutes=20), actor_expert_id=roster["李样本"])
    cid = experts.save_draft(db, aid, "li", clock.advance(hours=1), "淡盐水不能预防示例病毒感染", "示例澄清正文。")
    experts.submit_for_review(db, cid, "li", clock(), actor_expert_id=roster["李样本"])
    experts.review_clarification(db, cid, "zhang", clock.advance(hours=1), approve=True)
    experts.publish_clarification(db, cid, "monitor1", clock.advance(minutes=30), "https://example.org/piyao/7")
    alerts.dismiss_alert(db, dismissed, "monitor1", now + timedelta(hours=1), "误报：讽刺段子", rules())
    add_item(db, "网传示例新药一针根治高血压", now + timedelta(days=2), reposts=300)
    [later] = alerts.evaluate_alerts(db, now + timedelta(days=2), rules())
    return {"clarified": clarified, "dismissed": dismissed, "watched": watched, "later": later}


def test_the_ledger_lists_each_alert_of_the_period_with_how_it_was_handled(db, now):
    ids = _handled_alerts(db, now)
    start, end = store.day_range(now, 1)
    text, n = ledger.ledger_csv(db, start, end, now + timedelta(hours=6))
    rows = {int(r["预警编号"]): r for r in _rows(text)}
    assert n == 3 and set(rows) == {ids["clarified"], ids["dismissed"], ids["watched"]}  # not the later one
    done = rows[ids["clarified"]]
    assert (done["状态"], done["指派专家"], done["澄清链接"]) == ("已澄清", "李样本", "https://example.org/piyao/7")
    assert done["信息发布"] == "按时" and done["类型"] == "疑似谣言"
    assert done["发现时间"] == "2026-11-23 16:00"  # Beijing time
    assert done["澄清发布时间"] == "2026-11-23 18:50"
    gone = rows[ids["dismissed"]]
    assert (gone["状态"], gone["排除原因"], gone["信息发布"]) == ("已排除", "误报：讽刺段子", "已排除")
    open_ = rows[ids["watched"]]
    assert (open_["类型"], open_["状态"], open_["触发原因"]) == ("关注词/账号", "待处置", "命中关注词「板蓝根」")
    assert open_["信息发布"] == "超时未完成"  # 6 hours on, past its 5-hour clock
    assert open_["发布会"] == "不需要"  # below 一级 there is no press-conference clock


def test_a_clock_met_late_says_by_how_much_and_one_not_yet_due_says_so(now):
    due = "2026-11-23T13:00:00Z"
    assert ledger.clock_outcome("2026-11-23T12:59:00Z", due, "published", now) == "按时"
    assert ledger.clock_outcome("2026-11-23T14:30:00Z", due, "published", now) == "超时（晚 1.5 小时）"
    assert ledger.clock_outcome(None, due, "open", now) == "未到期"  # now is 08:00 UTC


def test_the_command_writes_the_ledger_of_the_days_asked_for(tmp_path, now):
    path = tmp_path / "rw.db"
    db = store.open_db(path)
    ids = _handled_alerts(db, now)
    db.conn.close()
    out = tmp_path / "台账.csv"
    result = CliRunner().invoke(cli, ["--db", str(path), "alerts", "export", "--from", "2026-11-25",
                                      "--to", "2026-11-25", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "wrote 1 alert(s) raised 2026-11-25 – 2026-11-25" in result.output
    assert [int(r["预警编号"]) for r in _rows(out.read_text(encoding="utf-8"))] == [ids["later"]]
    result = CliRunner().invoke(cli, ["--db", str(path), "alerts", "export", "--from", "2026-11-26",
                                      "--to", "2026-11-25", "-o", str(out)])
    assert result.exit_code != 0 and "2026-11-26 is after 2026-11-25" in result.output
