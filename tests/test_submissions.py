"""信息报送 (seed 002 §四(四)): the units' correspondents report, the office adopts or declines, and
the monthly notice judges each unit's reports (with its experts' clarifications) against the minimum."""

from __future__ import annotations

import re
import sqlite3
from datetime import UTC, datetime, timedelta

import dashboard_fixtures as fx
import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest
from workflow_helpers import store_before

from dashboard import data
from rumourwatch import auth, reports, store, submissions
from rumourwatch.alerts import WorkflowError
from rumourwatch.cli import cli
from rumourwatch.score import score_pending

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Beijing, as the dashboard fixtures
CLAIM = "辖区居民微信群流传“每天喝醋可以软化血管”的说法，部分老年居民询问，本单位已安排医生在群内解释。"
UNITS = [
    {"code": "U1", "name": "城区卫生健康局", "kind": "县区卫健局", "region": "示例市", "monthly_minimum": None,
     "active": 1},
    {"code": "U2", "name": "市疾病预防控制中心", "kind": "疾控中心", "region": "示例市", "monthly_minimum": None,
     "active": 1},
    {"code": "U3", "name": "已撤并卫生院", "kind": "乡镇卫生院", "region": "示例市", "monthly_minimum": None,
     "active": 0},
]


def add_units(db) -> dict:
    with store.transaction(db):
        store.upsert_units(db, UNITS, "2026-11-01T00:00:00Z")
    return {u["code"]: store.find_unit(db, u["code"]) for u in UNITS}


@pytest.fixture
def units(db):
    return add_units(db)


def submit(db, unit, kind="work", title="开展健康科普进社区活动", content="本周在三个社区开展健康科普讲座。",
           actor="li", now=NOW, **kw):
    return submissions.submit(db, unit_id=unit["id"], kind=kind, title=title, content=content, actor=actor,
                              now=now, **kw)


def test_a_units_opinion_report_enters_the_feed_scored_and_the_office_adopts_it(db, units, rule_bundle):
    done = submit(db, units["U1"], kind="opinion", title="微信群流传喝醋软化血管", content=CLAIM,
                  platform="微信群", url="https://example.org/post/1", occurred_at=NOW - timedelta(days=1))
    assert (done["status"], done["unit_name"], done["submitted_by"], done["kind"]) == (
        "submitted", "城区卫生健康局", "li", "opinion")
    item = store.get_item(db, done["item_id"])
    assert (item["platform"], item["source"], item["account"]) == ("微信群", "unit:U1", "城区卫生健康局")
    assert CLAIM in item["text"]
    # the worker's next poll scores it like a tip, and the office sees the score beside the report
    assert score_pending(db, rule_bundle, NOW) == 1
    assert store.get_submission(db, done["id"])["rumour_probability"] is not None
    # a work report is not a claim: it does not enter the feed
    work = submit(db, units["U1"])
    assert work["item_id"] is None and store.count_items(db) == 1
    adopted = submissions.decide(db, done["id"], adopt=True, actor="monitor1", now=NOW + timedelta(hours=2),
                                 adopted_in="舆情日报")
    assert (adopted["status"], adopted["adopted_in"], adopted["decided_by"]) == ("adopted", "舆情日报", "monitor1")
    actions = [(e["action"], e["actor"]) for e in store.audit_entries(db, target_type="submission")]
    assert sorted(actions) == [("submission.adopt", "monitor1"), ("submission.submit", "li"),
                               ("submission.submit", "li")]


@pytest.mark.parametrize("kwargs,key", [
    ({"title": "  "}, "submission_title_missing"),
    ({"content": ""}, "submission_content_missing"),
    ({"title": "标" * 81}, "submission_text_long"),
    ({"kind": "gossip"}, "submission_kind"),
    ({"url": "javascript:alert(1)"}, "submission_url"),
    ({"occurred_at": NOW + timedelta(days=2)}, "submission_future"),
])
def test_a_report_that_cannot_be_recorded_is_refused_saying_why_and_nothing_is_written(db, units, kwargs, key):
    with pytest.raises(WorkflowError) as refused:
        submit(db, units["U1"], **kwargs)
    assert refused.value.key == key
    assert store.list_submissions(db) == [] and store.count_items(db) == 0
    assert store.audit_entries(db, target_type="submission") == []


def test_an_inactive_or_unknown_unit_cannot_report(db, units):
    with pytest.raises(WorkflowError) as refused:
        submit(db, units["U3"])
    assert refused.value.key == "submission_unit_inactive"
    with pytest.raises(WorkflowError) as refused:
        submissions.submit(db, unit_id=999, kind="work", title="t", content="c", actor="li", now=NOW)
    assert refused.value.key == "submission_no_unit"


def test_declining_needs_the_reason_and_a_decided_report_cannot_change(db, units):
    done = submit(db, units["U1"])
    with pytest.raises(WorkflowError) as refused:
        submissions.decide(db, done["id"], adopt=False, actor="monitor1", now=NOW, note=" ")
    assert refused.value.key == "submission_note_missing"
    assert store.get_submission(db, done["id"])["status"] == "submitted"
    declined = submissions.decide(db, done["id"], adopt=False, actor="monitor1", now=NOW,
                                  note="缺少时间、地点等要素")
    assert (declined["status"], declined["decision_note"]) == ("declined", "缺少时间、地点等要素")
    for step in (lambda: submissions.decide(db, done["id"], adopt=True, actor="m", now=NOW),
                 lambda: submissions.withdraw(db, done["id"], actor="li", unit_id=units["U1"]["id"], now=NOW)):
        with pytest.raises(WorkflowError) as refused:
            step()
        assert refused.value.key == "submission_decided" and refused.value.params["submission_status"] == "declined"


def test_a_unit_withdraws_its_own_pending_report_which_then_does_not_count(db, units):
    mine, theirs = submit(db, units["U1"]), submit(db, units["U2"], actor="zhao")
    with pytest.raises(WorkflowError) as refused:
        submissions.withdraw(db, theirs["id"], actor="li", unit_id=units["U1"]["id"], now=NOW)
    assert refused.value.key == "submission_other_unit"
    assert submissions.withdraw(db, mine["id"], actor="li", unit_id=units["U1"]["id"], now=NOW)["status"] == \
        "withdrawn"
    month = submissions.unit_month(db, units["U1"], "2026-11", 4)
    assert (month["submitted"], month["withdrawn"], month["met"]) == (0, 1, False)
    assert submissions.unit_month(db, units["U2"], "2026-11", 4)["submitted"] == 1


def test_a_unit_month_counts_its_reports_in_beijing_time_against_its_minimum(db, units):
    # 2026-11-30 23:30 in Beijing is November; 2026-12-01 00:30 is December
    submit(db, units["U1"], now=datetime(2026, 11, 30, 15, 30, tzinfo=UTC))
    submit(db, units["U1"], now=datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    for _ in range(3):
        submit(db, units["U1"], now=datetime(2026, 11, 10, 2, 0, tzinfo=UTC))
    nov = submissions.unit_month(db, units["U1"], "2026-11", 4)
    assert (nov["submitted"], nov["pending"], nov["minimum"], nov["met"]) == (4, 4, 4, True)
    assert submissions.unit_month(db, units["U1"], "2026-12", 4)["submitted"] == 1


def test_the_monthly_notice_judges_units_on_their_reports_and_clarifications_together():
    """Seed 002: 每月报送信息不少于4条. The county bureau, with one clarification by its expert and
    three reports, meets it; the CDC, with four reports of which one withdrawn, does not; adopted
    ones are counted too."""
    import report_fixtures as rfx

    db = store.open_db(memory=True)
    rfx.build_all(db)
    county, cdc = store.find_unit(db, rfx.UNIT_COUNTY), store.find_unit(db, rfx.UNIT_IDLE)
    at = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
    for i in range(3):
        done = submit(db, county, now=at + timedelta(hours=i))
        submissions.decide(db, done["id"], adopt=i < 2, actor="m", now=at + timedelta(days=1), note="重复")
    for i in range(4):
        done = submit(db, cdc, actor="zhao", now=at + timedelta(hours=i))
    submissions.withdraw(db, done["id"], actor="zhao", unit_id=cdc["id"], now=at + timedelta(hours=5))
    submit(db, cdc, actor="zhao", now=datetime(2026, 12, 1, 1, 0, tzinfo=UTC))  # December's
    notice = reports.compute_monthly(db, rfx.MONTH, now=datetime(2026, 12, 1, 2, 0, tzinfo=UTC))
    rows = {r["unit"]: r for r in notice.section("units").data["rows"]}
    c, d = rows[rfx.UNIT_COUNTY], rows[rfx.UNIT_IDLE]
    assert (c["reported"], c["adopted"], c["clarifications"], c["counted"]) == (3, 2, 1, 4)
    assert (d["reported"], d["adopted"], d["clarifications"], d["counted"]) == (3, 0, 0, 3)
    assert not c["below_minimum"] and d["below_minimum"]
    assert c["rank"] == 1 and c["rank"] < d["rank"]
    assert notice.section("units").data["below"] == [rfx.UNIT_IDLE]
    # the reporting page judges a unit's month as the notice does
    months = submissions.units_month(db, store.list_units(db), rfx.MONTH, 4)
    for unit in store.list_units(db):
        row = rows[unit["name"]]
        assert (months[unit["id"]]["counted"], months[unit["id"]]["met"]) == (row["counted"],
                                                                             not row["below_minimum"]), unit["name"]
    head, body = reports.units_table(notice)
    assert head[4:9] == ["报送", "采用", "澄清", "合计", "要求"]
    assert body[0][1] == rfx.UNIT_COUNTY and body[0][4:] == [3, 2, 1, 4, 4, "达标"]
    text = reports.render_markdown(notice)
    assert "每单位每月报送信息不少于 4 条" in text and f"| {rfx.UNIT_COUNTY} |" in text


def test_a_correspondent_is_tied_to_an_active_unit_and_sees_only_the_reporting_page(db, units):
    with pytest.raises(auth.AuthError) as refused:
        auth.create_user(db, "li", "a-long-password-1", "correspondent", "admin")
    assert refused.value.key == "correspondent_unit"
    with pytest.raises(auth.AuthError):
        auth.create_user(db, "li", "a-long-password-1", "correspondent", "admin", unit_id=units["U3"]["id"])
    user = auth.create_user(db, "li", "a-long-password-1", "correspondent", "admin", unit_id=units["U1"]["id"])
    assert (user["role"], user["unit_name"]) == ("correspondent", "城区卫生健康局")
    assert auth.home_page("correspondent") == "submissions"
    pages = [p for p in auth.PAGE_ROLES if auth.page_allowed("correspondent", p)]
    assert sorted(pages) == ["account", "submissions"]
    assert not auth.can("correspondent", "item.view") and auth.can("monitor", "submissions.review")
    # another role keeps no unit
    moved = auth.set_role(db, "li", "monitor", "admin", unit_id=units["U1"]["id"])
    assert (moved["role"], moved["unit_id"]) == ("monitor", None)


def test_the_cli_adds_a_correspondent_by_unit_code_and_refuses_an_unknown_unit(tmp_path, monkeypatch):
    path = tmp_path / "cli.db"
    db = store.open_db(path)
    add_units(db)
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    runner = CliRunner()
    done = runner.invoke(cli, ["users", "add", "li", "--role", "correspondent", "--unit", "U2", "--password-stdin"],
                         input="a-long-password-1\n")
    assert done.exit_code == 0, done.output
    listed = runner.invoke(cli, ["users", "list"])
    [line] = [x for x in listed.output.splitlines() if x.startswith("li ")]
    assert line.split()[1] == "correspondent" and line.endswith("市疾病预防控制中心")
    refused = runner.invoke(cli, ["users", "add", "wu", "--role", "correspondent", "--unit", "U9",
                                  "--password-stdin"], input="a-long-password-1\n")
    assert refused.exit_code != 0 and "no registered unit with code or name 'U9'" in refused.output


def test_an_existing_store_keeps_its_accounts_and_logins_when_the_role_is_added(tmp_path):
    """0035 rebuilds users (SQLite cannot change a CHECK): the accounts, their secrets and their open
    logins survive, the foreign keys hold, and an unknown role is still refused."""
    path = tmp_path / "old.db"
    db = store_before(path, "0035")
    at = "2026-11-20T00:00:00Z"
    db.execute("INSERT INTO users (id, username, role, password_hash, created_at, updated_at) VALUES "
               "(5, 'mon', 'monitor', ?, ?, ?)", [auth.hash_password("a-long-password-1", "mon"), at, at])
    db.execute("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES ('h', 5, ?, ?)", [at, at])
    # a row another table broke long ago (foreign keys off in some old tool) does not stop the upgrade
    db.execute("PRAGMA foreign_keys = OFF")
    db.execute("INSERT INTO alert_steps (alert_id, step, at, actor) VALUES (4242, 'created', ?, 'x')", [at])
    db.execute("PRAGMA foreign_keys = ON")
    assert "correspondent" not in db.execute("SELECT sql FROM sqlite_master WHERE name = 'users'").fetchone()[0]
    db.conn.close()
    db = store.open_db(path)  # migrates
    assert db.execute("SELECT user_id, ended_at FROM sessions").fetchall() == [(5, None)]
    token, user = auth.login(db, "mon", "a-long-password-1")
    assert (user["id"], user["role"], user["unit_id"]) == (5, "monitor", None)
    assert auth.session_user(db, token)["username"] == "mon"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA foreign_key_check(users)").fetchall() == []
    assert db.execute("PRAGMA foreign_key_check(sessions)").fetchall() == []
    with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
        db.execute("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES ('x', 999, '', '')")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        db.execute("UPDATE users SET role = 'boss' WHERE username = 'mon'")
    unit = add_units(db)["U1"]
    assert auth.set_role(db, "mon", "correspondent", "admin", unit_id=unit["id"])["unit_name"] == "城区卫生健康局"


# --- the page ------------------------------------------------------------------------------------

@pytest.fixture
def page_env(tmp_path, monkeypatch):
    path = tmp_path / "sub.db"
    fx.build_store(path)
    db = store.open_db(path)
    units = add_units(db)
    auth.create_user(db, "li", fx.MONITOR_PASSWORD, "correspondent", "test", unit_id=units["U1"]["id"])
    auth.create_user(db, "zhao", fx.MONITOR_PASSWORD, "correspondent", "test", unit_id=units["U2"]["id"])
    submit(db, units["U2"], title="疾控中心开展流感疫苗接种宣传", actor="zhao", now=NOW - timedelta(days=2))
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setattr(data, "now_utc", lambda: fx.NOW)
    return path


def _page(username: str) -> AppTest:
    at = fx.open_app("app_pages/submissions.py", username)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _fill(at: AppTest, title: str, content: str, kind: str = "work", gen: int = 0) -> AppTest:
    at.selectbox(key=f"sub_kind_{gen}").set_value(kind)
    at.text_input(key=f"sub_title_{gen}").set_value(title)
    at.text_area(key=f"sub_content_{gen}").set_value(content)
    next(b for b in at.button if b.label == "报送").click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _table(at: AppTest, column: str):
    return next(df.value for df in at.dataframe if column in df.value.columns)


def test_a_correspondent_reports_sees_the_months_progress_and_withdraws_a_mistake(page_env):
    at = _page("li")
    assert [m.value for m in at.metric][:2] == ["0 / 4", "0"]
    assert any("本月还差 4 条达到要求，本月还剩 8 天" in w.value for w in at.warning)
    assert any("本单位尚未报送信息" in i.value for i in at.info)  # another unit's report is not shown
    at = _fill(at, "城区开展控烟知识讲座", "本周在两所中学开展控烟知识讲座，约 600 名学生参加。")
    [done] = [s.value for s in at.success]
    assert done.startswith("已报送 #2（城区卫生健康局），等待委办公室处理")
    assert [m.value for m in at.metric] == ["1 / 4", "1", "0", "1", "0", "0"]
    table = _table(at, "报送时间")
    assert list(table["标题"]) == ["城区开展控烟知识讲座"] and list(table["状态"]) == ["待处理"]
    assert "单位" not in table.columns and "疾控中心开展流感疫苗接种宣传" not in table.to_string()
    assert at.text_input(key="sub_title_1").value == ""  # the form is empty for the next piece
    # an empty piece is refused in Chinese and what was typed stays to be completed
    at = _fill(at, "只有标题", "  ", gen=1)
    assert [e.value for e in at.error] == ["操作未完成：请填写内容。未报送任何内容。"]
    assert at.text_input(key="sub_title_1").value == "只有标题"
    # withdrawn: no longer counted this month
    next(b for b in at.button if b.label == "撤回").click()
    at.run()
    assert any("已撤回报送 #2" in s.value for s in at.success)
    assert at.metric[0].value == "0 / 4" and list(_table(at, "报送时间")["状态"]) == ["已撤回"]


def test_the_office_adopts_and_declines_and_sees_every_units_month(page_env):
    li = _fill(_page("li"), "城区流传喝醋软化血管", CLAIM, kind="opinion")
    assert "内容已作为条目" in li.success[0].value
    at = _page(fx.MONITOR)
    assert at.tabs[0].label == "待处理（2）"
    heads = [m.value for m in at.markdown if m.value.startswith("**#")]
    assert heads[0].startswith("**#1** · 市疾病预防控制中心 · 工作动态")  # the oldest first
    assert any("已进入监测：条目 #" in c.value and "谣言概率 未评分" in c.value for c in at.caption)
    # declining without a reason is refused; with one it is told to the unit
    next(b for b in at.button if b.label == "不采用").click()
    at.run()
    assert any("不采用时请写明原因" in e.value for e in at.error)
    at.text_input(key="sub_note_1").set_value("与本月已采用信息重复")
    next(b for b in at.button if b.label == "不采用").click()
    at.run()
    assert any("报送 #1 未采用" in s.value for s in at.success) and at.tabs[0].label == "待处理（1）"
    at.selectbox(key="sub_used_2").set_value("微信公众号")
    next(b for b in at.button if b.label == "采用").click()
    at.run()
    assert any("已采用报送 #2" in s.value for s in at.success) and at.tabs[0].label == "待处理（0）"
    units = _table(at, "通讯员账号")
    county = units[units["单位"] == "城区卫生健康局"].iloc[0]
    cdc = units[units["单位"] == "市疾病预防控制中心"].iloc[0]
    assert (county["报送信息"], county["已采用"], county["合计"], county["达标情况"], county["通讯员账号"]) == (
        "1", "1", "1", "未达标", "1")
    assert (cdc["报送信息"], cdc["未采用"], cdc["合计"]) == ("1", "1", "1")
    # the correspondent reads the office's answer
    li = _page("zhao")
    table = _table(li, "报送时间")
    assert list(table["状态"]) == ["未采用"] and list(table["说明"]) == ["与本月已采用信息重复"]


def test_a_leader_or_an_expert_cannot_open_the_reporting_page(page_env):
    db = store.open_db(page_env)
    auth.create_user(db, "boss", fx.MONITOR_PASSWORD, "leader", "test")
    db.conn.close()
    at = fx.open_app("app_pages/submissions.py", "boss")
    assert at.error and "无权访问" in at.error[0].value and not at.text_area


def test_an_upgrade_that_would_leave_a_login_without_its_account_is_refused_and_changes_nothing(tmp_path):
    from rumourwatch.errors import StoreError

    path = tmp_path / "old.db"
    db = store_before(path, "0035")
    db.execute("PRAGMA foreign_keys = OFF")  # a session whose account some tool deleted
    db.execute("INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at) VALUES ('h', 77, 'a', 'a')")
    db.conn.close()
    with pytest.raises(StoreError) as refused:
        store.open_db(path)
    assert refused.value.key == "migration_broken_reference" and "0035_unit_submissions" in str(refused.value)
    db = store.open_db(path, migrate=False)
    assert "correspondent" not in db.execute("SELECT sql FROM sqlite_master WHERE name = 'users'").fetchone()[0]
    assert not db["submissions"].exists()
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1


def test_a_correspondent_reads_how_last_months_notice_ranked_the_unit(page_env):
    db = store.open_db(page_env)
    county = store.find_unit(db, "U1")
    for day in (3, 10, 17, 24):
        submit(db, county, now=datetime(2026, 10, day, 2, 0, tzinfo=UTC))
    db.conn.close()
    at = _page("li")
    assert "2026 年 10 月通报：本单位合计 4 条，达标，在 2 个单位中排第 1 名。" in [c.value for c in at.caption]
    other = _page("zhao")  # the CDC reported nothing in October
    assert "2026 年 10 月通报：本单位合计 0 条，未达标，在 2 个单位中排第 2 名。" in [c.value for c in other.caption]
    # the same ranking as the notice itself
    db = store.open_db(page_env, read_only=True)
    notice = reports.compute_monthly(db, "2026-10", now=NOW).section("units").data["rows"]
    assert [(r["unit"], r["rank"]) for r in notice] == [("城区卫生健康局", 1), ("市疾病预防控制中心", 2)]


def test_units_short_of_their_minimum_are_reminded_once_in_the_months_last_days(db, units):
    """催报: from three days before the month ends (Beijing time), each active unit with a mailbox that
    has not reached its minimum is mailed once that month, with what it has and what is missing; a
    unit that met it, or has no mailbox, is not; the next month starts afresh. The worker's round
    (alerts.workflow_tick) runs it."""
    from workflow_helpers import rules

    from rumourwatch import alerts

    with store.transaction(db):
        store.upsert_units(db, [dict(UNITS[0], email="county@example.org"), dict(UNITS[1], email="cdc@example.org")],
                           "2026-11-01T00:00:00Z")
    county, cdc = store.find_unit(db, "U1"), store.find_unit(db, "U2")
    for day in (3, 5, 7, 9):
        submit(db, cdc, actor="zhao", now=datetime(2026, 11, day, 2, 0, tzinfo=UTC))
    submit(db, county, now=datetime(2026, 11, 12, 2, 0, tzinfo=UTC))
    r = rules()
    assert submissions.remind_short_units(db, datetime(2026, 11, 27, 2, 0, tzinfo=UTC), r) == []  # 4 days left
    done = alerts.workflow_tick(db, datetime(2026, 11, 28, 2, 0, tzinfo=UTC), r, deliver=False)
    assert done["units_reminded"] == [{"unit": "城区卫生健康局", "counted": 1, "minimum": 4}]
    [mail] = [n for n in store.list_notifications(db) if n["event"] == "unit_reminder"]
    assert (mail["target"], mail["subject"]) == ("county@example.org", "【信息报送提醒】城区卫生健康局本月还差 3 条")
    assert "已报送 1 条" in mail["body"] and "本月还剩 3 天" in mail["body"]
    assert submissions.remind_short_units(db, datetime(2026, 11, 30, 2, 0, tzinfo=UTC), r) == []  # once a month
    # December: reminded again at its own end (nothing reported yet by either)
    again = submissions.remind_short_units(db, datetime(2026, 12, 29, 2, 0, tzinfo=UTC), r)
    assert sorted(u["unit"] for u in again) == sorted(["市疾病预防控制中心", "城区卫生健康局"])
    entries = store.audit_entries(db, target_type="unit")
    assert {e["action"] for e in entries} == {"submission.remind"} and len(entries) == 3


# --- 信息报送台账: a ledger imported ---------------------------------------------------------------

LEDGER = f"""单位,类别,标题,内容,报送日期,状态,采用于,说明
U1,工作动态,城区开展健康科普进社区,本周在三个社区开展健康科普讲座。,2026-11-05,已采用,舆情日报,
城区卫生健康局,舆情信息,微信群流传喝醋软化血管,{CLAIM},2026/11/6,,,
U2,健康科普,秋冬季如何预防流感,一篇科普文章。,2026年11月7日,未采用,,
U9,工作动态,,内容,2026-13-01,,,
U3,工作动态,卫生院撤并前的工作,内容,2026-11-02,,,
U1,工作动态,城区开展健康科普进社区,本周在三个社区开展健康科普讲座。,2026-11-05,,,
U1,工作动态,明天的活动,内容,2026-11-24,,,
U1,闲聊,标题,内容,2026-11-08,已读,,
"""


def test_a_ledger_records_its_good_rows_and_sets_aside_each_bad_one_with_every_problem(db, units, tmp_path):
    """An office's 信息报送台账 (Chinese headers, saved by Excel as GB18030): the good rows counted in
    the month of their day, a 舆情信息 row filed in the feed on that day; each bad row set aside with
    all it has wrong; imported again, nothing counts twice."""
    path = tmp_path / "台账.csv"
    path.write_bytes(LEDGER.encode("gb18030"))
    report = submissions.import_ledger(db, path, actor="monitor1", now=NOW)
    assert (report.created, report.items) == (2, 1)
    keys = {line: sorted(p.key for p in found) for line, found in report.problems}
    assert keys == {4: ["submission_note_missing"],
                    5: ["ledger_date", "submission_no_unit", "submission_title_missing"],
                    6: ["submission_unit_inactive"], 7: ["ledger_duplicate_row"], 8: ["ledger_future"],
                    9: ["ledger_status", "submission_kind"]}
    assert report.errors[0].startswith("row 4: declining a submission needs the reason")
    rows = {r["title"]: r for r in store.list_submissions(db)}
    adopted = rows["城区开展健康科普进社区"]
    assert (adopted["status"], adopted["adopted_in"], adopted["decided_by"], adopted["unit_name"]) == (
        "adopted", "舆情日报", "monitor1", "城区卫生健康局")
    assert adopted["submitted_at"] == "2026-11-05T04:00:00Z"  # noon of its day in Beijing
    claim = rows["微信群流传喝醋软化血管"]
    item = store.get_item(db, claim["item_id"])
    assert (claim["status"], item["source"], item["published_at"]) == ("submitted", "unit:U1", "2026-11-06T04:00:00Z")
    month = submissions.unit_month(db, units["U1"], "2026-11", 4)
    assert (month["submitted"], month["adopted"], month["pending"]) == (2, 1, 1)
    [entry] = store.audit_entries(db, target_type="submission")
    assert (entry["action"], entry["actor"]) == ("submission.import", "monitor1")
    # the office mends row 4 and imports the whole file again: what was recorded is not counted twice
    again = submissions.import_ledger(db, path.read_bytes().replace("未采用,,".encode("gb18030"),
                                                                   "未采用,,内容重复".encode("gb18030")),
                                      actor="monitor1", now=NOW, name="台账.csv")
    assert again.created == 1 and rows.keys() < {r["title"] for r in store.list_submissions(db)}
    assert sorted(p.key for _, found in again.problems for p in found if p.key.startswith("ledger_dup")) == [
        "ledger_duplicate", "ledger_duplicate", "ledger_duplicate_row"]


def test_a_ledger_without_a_required_column_is_refused_whole_and_the_template_reads_back(db, units, tmp_path):
    path = tmp_path / "ledger.csv"
    path.write_text("unit,kind,title,content\nU1,work,t,c\n", encoding="utf-8")
    with pytest.raises(WorkflowError) as refused:
        submissions.import_ledger(db, path, actor="m", now=NOW)
    assert (refused.value.key, refused.value.params) == ("ledger_header", {"missing": "date"})
    assert store.list_submissions(db) == []
    # the page's template: its header is understood; its example unit is not one of these
    template = submissions.import_ledger(db, submissions.ledger_template().encode("utf-8"), actor="m", now=NOW,
                                         name="信息报送台账模板.csv")
    assert template.created == 0 and [[p.key for p in found] for _, found in template.problems] == [
        ["submission_no_unit"]]


def test_the_cli_imports_a_ledger_with_english_columns_and_lists_the_rows_set_aside(tmp_path, monkeypatch):
    path = tmp_path / "rw.db"
    db = store.open_db(path)
    add_units(db)
    db.conn.close()
    ledger = tmp_path / "ledger.csv"
    ledger.write_text("unit,kind,title,content,date\nU1,work,城区开展义诊,内容,2026-11-10\nU2,work,,内容,2026-11-10\n",
                      encoding="utf-8")
    result = CliRunner().invoke(cli, ["--db", str(path), "report", "import-submissions", str(ledger),
                                      "--actor", "office", "--now", "2026-11-23T04:00:00Z"])
    assert result.exit_code == 1
    assert "1 piece(s) recorded (0 舆情信息 filed in the feed)" in result.output
    assert "skipped row 3: a submission needs its title" in result.output
    db = store.open_db(path)
    [done] = store.list_submissions(db)
    assert (done["title"], done["submitted_by"], done["unit_code"]) == ("城区开展义诊", "office", "U1")


def test_the_office_imports_a_ledger_on_the_page_and_reads_why_each_row_was_set_aside(page_env):
    at = _page(fx.MONITOR)
    at.file_uploader(key="sub_ledger_upload").set_value(("台账.csv", LEDGER.encode("gb18030"), "text/csv"))
    at.run()
    at = _press(at, "导入台账")
    assert any("已导入 2 条（其中舆情信息 1 条进入监测），6 行未导入。" in s.value for s in at.success)
    assert any(w.value.startswith("以下行未导入") for w in at.warning)
    [rows] = [m.value for m in at.markdown if "第 4 行" in m.value]
    assert "第 4 行：不采用时请写明原因，单位通讯员会看到。" in rows
    assert "第 7 行：与第 2 行重复（同一单位、同一天、同一标题）。" in rows
    assert "第 8 行：报送日期 2026\\-11\\-24 晚于今天，请检查。" in rows  # escaped: shows as typed
    assert "第 9 行：未知的报送类别“闲聊”：请选择舆情信息、工作动态或健康科普。状态“已读”无法识别" in rows
    assert not re.search(r"[a-z]+ (is required|must be|is not|needs)", rows)  # no English left


def _press(at, label: str):
    next(b for b in at.button if b.label == label).click()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def _workbook(rows) -> bytes:
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_a_ledger_kept_in_excel_is_read_from_its_first_sheet_with_its_date_cells(db, units, tmp_path):
    """Offices keep the 台账 in Excel or WPS: the workbook is read as it is — a date cell is a day, a
    blank row skipped, a row set aside named by its Excel row number."""
    from datetime import date as day

    data = _workbook([["单位", "类别", "标题", "内容", "报送日期", "状态", "采用于", "说明"],
                      ["U1", "工作动态", "城区开展义诊", "本周开展义诊。", day(2026, 11, 5), "已采用", "舆情日报", None],
                      [None] * 8,
                      ["U2", "健康科普", "流感疫苗问答", "科普文章。", "2026/11/6", None, None, None],
                      ["U2", "工作动态", None, "没有标题。", day(2026, 11, 7), None, None, None, "多出的一格"]])
    path = tmp_path / "台账.xlsx"
    path.write_bytes(data)
    report = submissions.import_ledger(db, path, actor="monitor1", now=NOW)
    assert report.created == 2
    assert [(line, sorted(p.key for p in found)) for line, found in report.problems] == [
        (5, ["ledger_extra", "submission_title_missing"])]
    done = {r["title"]: r for r in store.list_submissions(db)}
    assert (done["城区开展义诊"]["submitted_at"], done["城区开展义诊"]["status"]) == ("2026-11-05T04:00:00Z", "adopted")
    assert done["流感疫苗问答"]["unit_code"] == "U2"
    # bytes of an upload go the same way
    again = submissions.import_ledger(db, data, actor="monitor1", now=NOW, name="台账.xlsx")
    assert again.created == 0 and {p.key for _, found in again.problems for p in found} >= {"ledger_duplicate"}


@pytest.mark.parametrize("data,fragment", [
    (b"not a zip at all", "不是 Excel 工作簿"),
    (None, "可能是 Word 文档"),  # a .docx renamed
    (b"", "文件为空"),
])
def test_a_file_named_xlsx_that_is_no_workbook_is_refused_whole_saying_why(db, units, data, fragment):
    import io
    import zipfile

    from rumourwatch.uploads import UploadError

    if data is None:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            archive.writestr("word/document.xml", "<w:document/>")
        data = out.getvalue()
    with pytest.raises(UploadError) as refused:
        submissions.import_ledger(db, data, actor="m", now=NOW, name="台账.xlsx")
    assert fragment in refused.value.zh and store.list_submissions(db) == []


def test_a_workbook_that_unpacks_to_far_more_than_the_limit_is_refused_unread(db, units):
    import io
    import zipfile

    from rumourwatch.uploads import UploadError

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (21 * 1024 * 1024))  # 21 MB of nothing
    assert len(out.getvalue()) < 1024 * 1024
    with pytest.raises(UploadError) as refused:
        submissions.import_ledger(db, out.getvalue(), actor="m", now=NOW, name="台账.xlsx", max_mb=1)
    assert "解压后超过 20 MB" in refused.value.zh
