"""媒体约请专家 (seed 000 §(三)2): a media outlet's request for a pool expert, the experts suggested
for it, the offer mailed to one, the answer on the workbench, the outcome; and how it shows in
专家履职情况, the reports, the command line and the 媒体约请 page."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from streamlit.testing.v1 import AppTest
from test_workflow_pages import _run
from workflow_helpers import PASSWORD, ROSTER_CSV, rules

from dashboard import data
from rumourwatch import auth, experts, media, notify, performance, reports, store
from rumourwatch.alerts import WorkflowError
from rumourwatch.cli import cli

NOW = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)          # 16:00 in Beijing, a Monday
AT = datetime(2026, 11, 25, 1, 0, tzinfo=UTC)           # Wednesday 09:00 in Beijing


@pytest.fixture
def pool(db):
    experts.import_roster(db, ROSTER_CSV, "admin", NOW)
    return db, {e["name"]: e["id"] for e in store.list_experts(db)}


def city_request(db, **overrides) -> int:
    fields = {"outlet": "示例市广播电视台", "outlet_level": "市级", "kind": "访谈", "starts_at": AT, "hours": 2,
              "actor": "monitor1", "now": NOW, "programme": "健康直通车", "topic": "传染病及地方病防控",
              "region": "示例市", "contact": "刘编导 000-0000"}
    return media.create_request(db, **{**fields, **overrides})


def mail_rules(port: int) -> dict:
    return rules(notify={"smtp_host": "127.0.0.1", "smtp_port": port, "monitor_emails": ["monitor@example.org"],
                         "quiet_hours": ""})


# --- recording a request --------------------------------------------------------------------

@pytest.mark.parametrize("overrides, key", [({"outlet": "  "}, "media_outlet"), ({"outlet_level": "乡级"}, "media_level"),
                                            ({"kind": "开会"}, "media_kind"), ({"topic": "养生"}, "media_topic"),
                                            ({"hours": 0}, "media_hours"), ({"starts_at": NOW - timedelta(hours=1)},
                                                                            "media_past")])
def test_a_request_missing_what_it_needs_is_refused_saying_what(pool, overrides, key):
    db, _ = pool
    with pytest.raises(WorkflowError) as exc:
        city_request(db, **overrides)
    assert exc.value.key == key
    assert store.media_requests(db) == []


def test_a_request_is_recorded_open_and_audited(pool):
    db, _ = pool
    request_id = city_request(db)
    request = store.get_media_request(db, request_id)
    assert (request["status"], request["outlet_level"], request["starts_at"]) == ("open", "市级", "2026-11-25T01:00:00Z")
    assert [a["action"] for a in store.audit_entries(db, target_type="media_request")] == ["media.request"]


# --- the experts suggested ------------------------------------------------------------------

def test_city_media_are_suggested_experts_of_city_level_and_above_first(pool):
    db, _ = pool
    ranked = media.suggest(db, city_request(db), limit=10)
    names = [s["name"] for s in ranked]
    # 钱测试 (县级, 感染科: the topic's department) is below the outlet's level: last, and told why.
    assert names[-1] == "钱测试"
    low = ranked[-1]
    assert any(r.startswith("级别低于媒体：县级专家") for r in low["reasons"])
    # The national and provincial experts of the topic's specialty come first.
    assert set(names[:2]) == {"张示例", "李样本"}
    assert all(any(r.startswith("级别符合") for r in s["reasons"]) for s in ranked[:3])


def test_an_expert_away_during_the_activity_is_not_suggested_nor_offered(pool):
    db, ids = pool
    request_id = city_request(db)
    experts.add_absence(db, ids["张示例"], AT - timedelta(hours=1), AT + timedelta(hours=1), "出差", "admin", NOW)
    experts.add_absence(db, ids["李样本"], AT + timedelta(days=3), AT + timedelta(days=4), "休假", "admin", NOW)
    names = [s["name"] for s in media.suggest(db, request_id, limit=10)]
    assert "张示例" not in names and "李样本" in names  # away another day: still free then
    with pytest.raises(WorkflowError) as exc:
        media.offer(db, request_id, ids["张示例"], "monitor1", NOW, rules())
    assert exc.value.key == "expert_away"


def test_an_expert_invited_often_lately_ranks_below_an_equal_one(pool):
    db, ids = pool
    r = rules()
    for day in (1, 2):  # 李样本 accepted two invitations this month
        earlier = city_request(db, starts_at=AT + timedelta(days=day))
        offer_id = media.offer(db, earlier, ids["李样本"], "monitor1", NOW, r)
        media.respond(db, offer_id, True, "li", NOW, actor_expert_id=ids["李样本"], rules=r)
    ranked = media.suggest(db, city_request(db), limit=10)
    by_name = {s["name"]: s for s in ranked}
    assert by_name["张示例"]["score"] > by_name["李样本"]["score"]
    assert "近 30 天接受媒体约请 2 次" in by_name["李样本"]["reasons"]


# --- offer, answer, outcome -----------------------------------------------------------------

def test_the_offer_is_mailed_a_decline_goes_back_to_the_office_and_the_next_expert_accepts(pool, smtp_server):
    db, ids = pool
    controller, inbox = smtp_server
    r = mail_rules(controller.port)
    request_id = city_request(db)
    first = media.offer(db, request_id, ids["张示例"], "monitor1", NOW, r)
    with pytest.raises(WorkflowError) as exc:  # one expert at a time
        media.offer(db, request_id, ids["李样本"], "monitor1", NOW, r)
    assert exc.value.key == "media_not_open"
    assert notify.deliver_pending(db, NOW, r)["sent"] == 1
    [(to, msg)] = inbox.messages
    assert to == ["zhang@example.org"] and "示例市广播电视台约请您参加访谈" in msg["Subject"]
    assert "健康直通车" in msg.get_content() and "11-25 09:00" in msg.get_content()

    with pytest.raises(WorkflowError) as exc:
        media.respond(db, first, False, "zhang", NOW, "", actor_expert_id=ids["张示例"], rules=r)
    assert exc.value.key == "media_decline_reason"
    with pytest.raises(WorkflowError) as exc:  # another expert cannot answer for them
        media.respond(db, first, True, "li", NOW, actor_expert_id=ids["李样本"], rules=r)
    assert exc.value.key == "media_not_yours"
    request = media.respond(db, first, False, "zhang", NOW, "当天门诊", actor_expert_id=ids["张示例"], rules=r)
    assert (request["status"], request["expert_id"]) == ("open", None)
    notify.deliver_pending(db, NOW, r)
    assert inbox.messages[-1][0] == ["monitor@example.org"]
    assert "张示例婉拒" in inbox.messages[-1][1]["Subject"] and "当天门诊" in inbox.messages[-1][1].get_content()
    assert "张示例" not in [s["name"] for s in media.suggest(db, request_id, limit=10)]
    with pytest.raises(WorkflowError) as exc:
        media.offer(db, request_id, ids["张示例"], "monitor1", NOW, r)
    assert exc.value.key == "media_declined_before"

    second = media.offer(db, request_id, ids["李样本"], "monitor1", NOW, r)
    media.respond(db, second, True, "li", NOW, actor_expert_id=ids["李样本"], rules=r)
    with pytest.raises(WorkflowError) as exc:  # the interview is on Wednesday
        media.complete(db, request_id, "monitor1", NOW, "https://tv.example.org/1")
    assert exc.value.key == "media_not_yet"
    later = AT + timedelta(hours=3)
    with pytest.raises(WorkflowError) as exc:
        media.complete(db, request_id, "monitor1", later, "tv.example.org/1")
    assert exc.value.key == "media_bad_url"
    done = media.complete(db, request_id, "monitor1", later, "https://tv.example.org/1", "已播出")
    assert (done["status"], done["outcome_url"], done["expert_name"]) == ("completed", "https://tv.example.org/1", "李样本")
    assert [o["status"] for o in store.media_offers(db, request_id)] == ["declined", "completed"]


def test_cancelling_needs_a_reason_and_tells_the_expert(pool, smtp_server):
    db, ids = pool
    controller, inbox = smtp_server
    r = mail_rules(controller.port)
    request_id = city_request(db)
    offer_id = media.offer(db, request_id, ids["李样本"], "monitor1", NOW, r)
    media.respond(db, offer_id, True, "li", NOW, actor_expert_id=ids["李样本"], rules=r)
    with pytest.raises(WorkflowError) as exc:
        media.cancel(db, request_id, "monitor1", NOW, " ", r)
    assert exc.value.key == "media_cancel_reason"
    media.cancel(db, request_id, "monitor1", NOW, "栏目取消录制", r)
    assert store.get_media_request(db, request_id)["status"] == "cancelled"
    assert store.media_offers(db, request_id)[0]["status"] == "withdrawn"
    notify.deliver_pending(db, NOW, r)
    last_to, last = inbox.messages[-1]
    assert last_to == ["li@example.org"] and "已取消" in last["Subject"] and "栏目取消录制" in last.get_content()
    with pytest.raises(WorkflowError) as exc:
        media.cancel(db, request_id, "monitor1", NOW, "再取消", r)
    assert exc.value.key == "media_closed"


# --- where it is counted --------------------------------------------------------------------

def test_media_work_is_counted_for_the_expert_and_in_the_weekly_report(pool):
    db, ids = pool
    r = rules()
    request_id = city_request(db)
    offer_id = media.offer(db, request_id, ids["王虚构"], "monitor1", NOW, r)
    media.respond(db, offer_id, True, "wang", NOW, actor_expert_id=ids["王虚构"], rules=r)
    media.complete(db, request_id, "monitor1", AT + timedelta(hours=3), "https://tv.example.org/2")
    cancelled = city_request(db, outlet="示例日报", kind="撰稿", starts_at=AT + timedelta(days=1))
    media.cancel(db, cancelled, "monitor1", NOW, "版面调整", r)
    rows = {row["name"]: row for row in performance.performance(db, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z",
                                                                  vocab=False)}
    wang = rows["王虚构"]
    assert (wang["media_offered"], wang["media_accepted"], wang["media_completed"]) == (1, 1, 1)
    assert performance.IDLE not in wang["flags"]  # media work is work
    assert "接受约请" in performance.performance_csv(list(rows.values())).splitlines()[0]
    week = reports.compute_weekly(db, "2026-W48", now=AT + timedelta(days=7),
                                  watch={"keywords": [], "accounts": []})
    lines = reports.experts_lines(week)
    assert "本周媒体约请专家 2 次（按活动时间）：已完成 1 次，其中由不低于媒体级别的专家完成 1 次；取消 1 次，待进行 0 次。" in lines


# --- command line ---------------------------------------------------------------------------

def test_the_command_line_records_suggests_and_offers(tmp_path, monkeypatch):
    path = tmp_path / "cli.db"
    db = store.open_db(path)
    experts.import_roster(db, ROSTER_CSV, "admin", NOW)
    ids = {e["name"]: e["id"] for e in store.list_experts(db)}
    db.conn.close()
    monkeypatch.setattr("rumourwatch.commands.media._now", lambda: NOW)

    def run(*args, code=0):
        result = CliRunner().invoke(cli, ["--db", str(path), "media", *args])
        assert result.exit_code == code, result.output
        return result.output

    out = run("add", "--outlet", "示例市广播电视台", "--level", "市级", "--kind", "直播", "--at", "2026-11-25 09:00",
              "--topic", "传染病及地方病防控", "--actor", "monitor1")
    assert "media request #1 recorded" in out and "级别符合" in out
    ranked = {r["name"]: r for r in json.loads(run("suggest", "1", "--json"))}
    assert any(r.startswith("级别低于媒体：县级专家") for r in ranked["钱测试"]["reasons"])
    run("offer", "1", str(ids["李样本"]), "--actor", "monitor1")
    [row] = json.loads(run("list", "--json"))
    assert (row["status"], row["expert_name"]) == ("offered", "李样本")
    assert "Error:" in run("add", "--outlet", "x", "--level", "市级", "--kind", "访谈", "--at", "2026-11-20 09:00",
                           code=1)
    assert "Invalid value for '--level'" in run("add", "--outlet", "x", "--level", "乡级", "--kind", "访谈", "--at",
                                                "2026-11-25 09:00", code=2)


# --- the pages ------------------------------------------------------------------------------

@pytest.fixture
def pages(tmp_path, monkeypatch):
    path = tmp_path / "pages.db"
    db = store.open_db(path)
    experts.import_roster(db, ROSTER_CSV, "admin", NOW)
    ids = {e["name"]: e["id"] for e in store.list_experts(db)}
    auth.create_user(db, "monitor1", PASSWORD, "monitor", "test")
    auth.create_user(db, "li", PASSWORD, "expert", "test", expert_id=ids["李样本"])
    db.conn.close()
    monkeypatch.setenv("RUMOURWATCH_DB_PATH", str(path))
    monkeypatch.setattr(data, "now_utc", lambda: NOW)
    return path, ids


def run_page(page: str, username: str, path) -> AppTest:
    at = _run(page, username, path)
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_a_monitor_records_a_request_and_offers_it_and_the_expert_accepts_on_the_workbench(pages, rules_file):
    path, ids = pages
    at = run_page("media.py", "monitor1", path)
    at.text_input(key="media_outlet_0").set_value("示例市广播电视台")
    at.selectbox(key="media_topic_0").set_value("传染病及地方病防控")
    at.text_input(key="media_programme_0").set_value("健康直通车")
    at.button(key="FormSubmitter:media_form_0-登记约请").click().run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("已登记媒体约请 #1" in s.value for s in at.success)
    page = "\n".join(m.value for m in at.markdown)
    assert "推荐专家" in page and "级别符合：省级专家（市级媒体宜优先邀请市级及以上专家）" in page.replace("\\", "")
    assert "**李样本** 教授（示例省疾病预防控制中心，省级）" in page  # the name in bold, not in asterisks
    at.button(key=f"media_offer_{ids['李样本']}").click().run()
    assert any("已向李样本发出约请" in s.value for s in at.success)
    assert store.get_media_request(store.open_db(path), 1)["status"] == "offered"

    wb = run_page("workbench.py", "li", path)
    assert any("示例市广播电视台（市级媒体）· 访谈" in m.value for m in wb.markdown)
    wb.button(key=f"media_accept_{1}").click().run()
    assert not wb.exception, [e.value for e in wb.exception]
    assert store.get_media_request(store.open_db(path), 1)["status"] == "accepted"
    assert any("您已接受此约请" in s.value for s in wb.success)


def test_an_invitation_whose_time_has_come_cannot_be_accepted_and_one_done_leaves_the_workbench(pages, rules_file,
                                                                                                monkeypatch):
    path, ids = pages
    db = store.open_db(path)
    r = rules()
    late = city_request(db, starts_at=AT)                                          # Wednesday 09:00, 2 hours
    late_offer = media.offer(db, late, ids["李样本"], "monitor1", NOW, r)
    held = city_request(db, outlet="示例日报", kind="撰稿", starts_at=AT - timedelta(hours=12))
    media.respond(db, media.offer(db, held, ids["李样本"], "monitor1", NOW, r), True, "li", NOW,
                  actor_expert_id=ids["李样本"], rules=r)
    with pytest.raises(WorkflowError) as exc:  # the activity has begun: accepting it now means nothing
        media.respond(db, late_offer, True, "li", AT + timedelta(minutes=1), actor_expert_id=ids["李样本"], rules=r)
    assert exc.value.key == "media_offer_passed" and exc.value.params["at"] == "2026-11-25 09:00"
    db.conn.close()

    monkeypatch.setattr(data, "now_utc", lambda: AT + timedelta(minutes=30))
    wb = run_page("workbench.py", "li", path)
    assert "活动时间已到，不能再接受：请婉拒并说明原因，或联系监测员。" in [w.value for w in wb.warning]
    assert [b.label for b in wb.button if b.key and b.key.startswith("media_")] == ["婉拒约请"]  # no 接受约请
    # the article accepted for the night before is over: listed apart, waiting for the office's record
    assert not any("示例日报" in m.value for m in wb.markdown)
    assert [e.label for e in wb.expander if e.label.startswith("已结束的约请")] == ["已结束的约请（1 项，待媒体办公室登记结果）"]
    assert "示例日报 · 撰稿 · 2026-11-24 21:00" in [x.value for x in wb.text]
    wb.text_input(key=f"media_reason_{late_offer}").set_value("时间已过")
    wb.button(key=f"media_decline_{late_offer}").click().run()
    assert not wb.exception, [e.value for e in wb.exception]
    assert store.get_media_request(store.open_db(path), late)["status"] == "open"  # back to the office


def test_a_request_for_a_past_time_is_refused_in_chinese_on_the_page(pages, rules_file):
    path, _ = pages
    at = run_page("media.py", "monitor1", path)
    at.text_input(key="media_outlet_0").set_value("示例日报")
    at.date_input(key="media_day_0").set_value(NOW.date())
    at.time_input(key="media_time_0").set_value(datetime(2026, 1, 1, 8, 0).time())  # 08:00 today: passed
    at.button(key="FormSubmitter:media_form_0-登记约请").click().run()
    assert any("已过：约请只能安排在将来的时间" in e.value for e in at.error)
    assert store.media_requests(store.open_db(path)) == []


def test_the_handover_passes_on_the_requests_still_without_an_expert(pool):
    from rumourwatch import handover

    db, ids = pool
    r = rules()
    waiting = city_request(db)                                       # nobody asked yet
    asked = city_request(db, outlet="示例日报", kind="撰稿", starts_at=AT + timedelta(days=1))
    media.offer(db, asked, ids["李样本"], "monitor1", NOW, r)          # asked, not answered
    settled = city_request(db, outlet="示例健康频道", starts_at=AT + timedelta(days=2))
    offer_id = media.offer(db, settled, ids["张示例"], "monitor1", NOW, r)
    media.respond(db, offer_id, True, "zhang", NOW, actor_expert_id=ids["张示例"], rules=r)
    summary = handover.shift_summary(db, NOW - timedelta(hours=8), NOW)
    assert [m["id"] for m in summary["media_pending"]] == [waiting, asked]  # soonest first; the accepted one is settled
    lines = handover.open_lines(summary)
    assert "媒体约请尚未落实专家 2 项：" in lines
    assert f"  #{asked} 示例日报 撰稿 11-26 09:00（剩 65.0 小时）：待李样本答复" in lines
    assert f"  #{waiting} 示例市广播电视台 访谈 11-25 09:00（剩 41.0 小时）：待约请专家" in lines


def test_an_unanswered_offer_is_chased_once_and_can_be_withdrawn_to_ask_another(pool, smtp_server):
    from rumourwatch.alerts import workflow_tick

    db, ids = pool
    controller, inbox = smtp_server
    r = mail_rules(controller.port)
    request_id = city_request(db, starts_at=NOW + timedelta(days=5))
    media.offer(db, request_id, ids["李样本"], "monitor1", NOW, r)
    notify.deliver_pending(db, NOW, r)
    assert media.chase_unanswered(db, NOW + timedelta(hours=23), r) == []  # not a day yet
    tick = workflow_tick(db, NOW + timedelta(hours=25), r)                  # the worker's round
    assert [c["request_id"] for c in tick["media_chased"]] == [request_id]
    subjects = {tuple(to): msg["Subject"] for to, msg in inbox.messages[1:]}
    assert "尚待您答复" in subjects[("li@example.org",)]
    assert "李样本尚未答复" in subjects[("monitor@example.org",)]
    assert media.chase_unanswered(db, NOW + timedelta(hours=30), r) == []  # once
    with pytest.raises(WorkflowError) as exc:
        media.withdraw(db, request_id, "monitor1", NOW, "", r)
    assert exc.value.key == "media_withdraw_reason"
    request = media.withdraw(db, request_id, "monitor1", NOW + timedelta(hours=26), "专家未答复", r)
    assert (request["status"], request["expert_id"]) == ("open", None)
    assert "李样本" not in [s["name"] for s in media.suggest(db, request_id, limit=10)]
    notify.deliver_pending(db, NOW + timedelta(hours=26), r)
    to, msg = inbox.messages[-1]
    assert to == ["li@example.org"] and "已改请其他专家" in msg["Subject"] and "专家未答复" in msg.get_content()
    with pytest.raises(WorkflowError) as exc:  # nothing offered now
        media.withdraw(db, request_id, "monitor1", NOW, "再撤回", r)
    assert exc.value.key == "media_not_withdrawable"


def test_an_offer_for_tomorrow_is_chased_before_a_day_has_passed(pool):
    db, ids = pool
    r = rules()
    request_id = city_request(db, starts_at=NOW + timedelta(hours=20))
    media.offer(db, request_id, ids["王虚构"], "monitor1", NOW, r)
    assert [c["request_id"] for c in media.chase_unanswered(db, NOW + timedelta(hours=1), r)] == [request_id]


def test_a_monitor_withdraws_an_unanswered_invitation_on_the_page(pages, rules_file):
    path, ids = pages
    db = store.open_db(path)
    request_id = city_request(db)
    media.offer(db, request_id, ids["李样本"], "monitor1", NOW, rules())
    db.conn.close()
    at = _run("media.py", "monitor1", path, {"request": str(request_id)})
    assert not at.exception, [e.value for e in at.exception]
    at.text_input(key="media_withdraw_reason").set_value("专家未答复")
    at.button(key="FormSubmitter:media_withdraw-撤回约请").click().run()
    assert any("已撤回约请，请改请其他专家" in s.value for s in at.success)
    assert store.get_media_request(store.open_db(path), request_id)["status"] == "open"
    page = "\n".join(m.value for m in at.markdown)
    assert "推荐专家" in page and "**李样本**" not in page  # offered again to someone else, not to the silent one
