"""辟谣效果: a clarification's story before and after its publication, beside stories that had none —
on the alert page's data, in the special report, in the weekly report and from the command line."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest
from click.testing import CliRunner
from workflow_helpers import ROSTER_CSV, RUMOUR_TEXT, add_item, rules

from rumourwatch import alerts, briefing, effect, experts, reports, store
from rumourwatch.cli import cli

OTHER_STORIES = [  # fictional claims, one story each, different enough not to cluster together
    "网传每天空腹吃三瓣生大蒜能杀死体内所有癌细胞，化疗都不用做了",
    "紧急通知：示例市自来水被病毒污染，这两天千万不要喝，囤桶装水",
    "有人说微波炉加热的饭菜会致癌，吃多了会得白血病，赶紧扔掉微波炉",
    "朋友圈疯传：隔夜的西瓜含有剧毒，吃了会导致肝衰竭，已经有人住院",
    "据说用白醋泡脚一周就能治好高血压，降压药可以直接停掉了",
    "转需：打完疫苗后三个月内不能吃海鲜，否则会引起严重过敏死亡",
]


def _publish(db, alert_id: int, at, url: str = "https://example.org/piyao/1") -> int:
    """Assign the alert to an expert, who drafts; another reviews; the monitor publishes at `at`."""
    pool = {e["name"]: e["id"] for e in store.list_experts(db)}
    if not pool:
        experts.import_roster(db, ROSTER_CSV, "admin", at)
        pool = {e["name"]: e["id"] for e in store.list_experts(db)}
    li = pool["李样本"]
    aid = experts.assign_expert(db, alert_id, li, "monitor1", at - timedelta(hours=3), rules())
    experts.accept_assignment(db, aid, "li", at - timedelta(hours=3), actor_expert_id=li)
    cid = experts.save_draft(db, aid, "li", at - timedelta(hours=2), "淡盐水不能预防病毒感染", "正文", actor_expert_id=li)
    experts.submit_for_review(db, cid, "li", at - timedelta(hours=2), actor_expert_id=li)
    experts.review_clarification(db, cid, "monitor1", at - timedelta(hours=1), approve=True)
    experts.publish_clarification(db, cid, "monitor1", at, url)
    return cid


def _story(db, now):
    """A rumour posted at `now` and copied twice, 27 reactions in its first 20 hours (10 with words of
    their own, 2 of them doubting), its alert raised at +1 h; after the clarification at +21 h, one
    more copy and 2 doubting comments. Before: 3 items + 27 reactions = 30; after: 1 + 2 = 3."""
    talk = ["太可怕了", "转给爸妈", "真的吗", "谣言吧", "收藏了", "家里老人天天喝", "有道理", "长知识", "马上试试", "谢谢提醒"]
    reactions = [("repost", now + timedelta(minutes=30 * k + 10), talk[k] if k < 10 else "转发微博") for k in range(27)]
    add_item(db, RUMOUR_TEXT, now, reposts=300, account="示例养生号", reactions=reactions)
    add_item(db, RUMOUR_TEXT, now + timedelta(hours=2), reposts=10, account="示例网友甲")
    add_item(db, RUMOUR_TEXT, now + timedelta(hours=5), reposts=10, account="示例网友乙")
    [alert_id] = alerts.evaluate_alerts(db, now + timedelta(hours=1), rules())
    cid = _publish(db, alert_id, now + timedelta(hours=21))
    add_item(db, RUMOUR_TEXT, now + timedelta(hours=30), reposts=3, account="示例网友丙", reactions=[
        ("comment", now + timedelta(hours=31), "已经辟谣了，假的"), ("comment", now + timedelta(hours=33), "别信谣言")])
    return alert_id, cid


def _references(db, start, n: int = 5, before: int = 19, after: int = 16):
    """`n` stories without a clarification, each alerted at `start` + k days, with `before` reactions
    in the 20 hours after its alert (and its item, posted at the alert) and `after` in the 24 hours
    from 20 hours on: at the main story's age each goes from 1 + before to after."""
    for k in range(n):
        t = start + timedelta(days=k)
        times = [t + timedelta(minutes=50 * j + 5) for j in range(before)]
        times += [t + timedelta(hours=20, minutes=80 * j + 5) for j in range(after)]
        add_item(db, OTHER_STORIES[k], t, reposts=300, account=f"示例号{k}", reaction_times=times)
        alerts.evaluate_alerts(db, t, rules())


def test_a_clarification_after_which_the_story_stopped_reads_as_a_clear_fall(db, now):
    _, cid = _story(db, now)
    e = effect.clarification_effect(db, cid, now + timedelta(hours=50))
    assert e["window_hours"] == 24 and e["hours_since"] == 29
    assert (e["before"]["items"], e["before"]["reactions"]) == (3, 27)
    assert (e["after"]["items"], e["after"]["reactions"]) == (1, 2)
    assert e["change"] == pytest.approx(-0.9)
    assert e["status"] == effect.FELL_CODE
    # of the reactions with words, doubt went from 2 of 10 to 2 of 2
    assert (e["before"]["worded"], e["before"]["doubting"], e["after"]["worded"], e["after"]["doubting"]) == (10, 2, 2, 2)
    # the copy posted since is listed, to be taken down
    assert e["since_items"] == 1 and e["since_rows"][0]["account"] == "示例网友丙"
    assert e["reference"] is None and e["compared"] is None  # no story without a clarification to compare with
    text = "\n".join(effect.lines(e))
    assert "新增条目 3 → 1，新增互动 27 → 2" in text and "质疑、辟谣类占比 20% → 100%" in text
    assert "发布后传播明显回落（新增条目与互动 -90%）" in text and "暂无对照" in text
    assert "发布以来仍有 1 条新的相关条目" in text


def test_the_fall_is_read_beside_stories_that_had_no_clarification_at_the_same_age(db, now):
    _references(db, now - timedelta(days=20))
    _, cid = _story(db, now)
    e = effect.clarification_effect(db, cid, now + timedelta(hours=50))
    # each reference story went from 20 (its item and 19 reactions) to 16 at 20 hours after its alert
    assert e["reference"] == {"n": 5, "change": pytest.approx(-0.2)}
    assert e["compared"] == "faster"
    assert "未辟谣的预警事件在相同时点中位变化 -20%（5 起），回落快于未辟谣的预警事件" in effect.status_text(e)


def test_a_story_that_kept_spreading_after_its_clarification_is_said_so(db, now):
    _references(db, now - timedelta(days=20), before=19, after=4)  # stories that died down on their own
    _, cid = _story(db, now)
    for k in range(40):  # the claim keeps being reposted after the clarification
        add_item(db, RUMOUR_TEXT, now + timedelta(hours=22, minutes=20 * k), account=f"示例转发者{k}")
    e = effect.clarification_effect(db, cid, now + timedelta(hours=50))
    assert e["after"]["items"] == 41 and e["status"] == effect.NOT_FALLEN
    assert e["compared"] == "slower" and e["reference"]["change"] == pytest.approx(-0.8)
    assert e["since_items"] == 41 and len(e["since_rows"]) == effect.STILL_SHOWN
    assert e["since_rows"][0]["published_at"] > e["since_rows"][-1]["published_at"]  # latest first


def test_a_young_clarification_is_too_early_to_judge_and_compares_equal_windows(db, now):
    _, cid = _story(db, now)
    e = effect.clarification_effect(db, cid, now + timedelta(hours=22))
    assert e["status"] == effect.TOO_EARLY and e["change"] is None
    assert e["window_hours"] == 1  # one hour since publication: one hour before it is compared
    assert e["before"]["reactions"] == 0 and e["after"]["reactions"] == 0  # [20 h, 21 h) and [21 h, 22 h)
    assert "发布不足 2 小时，尚难判断" in effect.status_text(e)


def test_a_story_already_quiet_before_its_clarification_has_nothing_to_compare(db, now):
    add_item(db, RUMOUR_TEXT, now, reposts=300, account="示例养生号")
    [alert_id] = alerts.evaluate_alerts(db, now, rules())
    cid = _publish(db, alert_id, now + timedelta(hours=3))
    e = effect.clarification_effect(db, cid, now + timedelta(hours=40))
    assert e["status"] == effect.QUIET and e["change"] is None
    assert effect.status_text(e) == "发布前传播已很少，无从比较"


def test_an_unpublished_or_unknown_clarification_is_refused_with_the_reason(db, now):
    alert_id, cid = _story(db, now)
    with pytest.raises(effect.EffectError, match="#999 does not exist"):
        effect.clarification_effect(db, 999, now)
    store.update_clarification(db, cid, {"status": "approved"})
    with pytest.raises(effect.EffectError, match="not published"):
        effect.clarification_effect(db, cid, now + timedelta(hours=50))
    assert effect.alert_effect(db, alert_id, now + timedelta(hours=50)) is None


def test_a_period_lists_its_clarifications_effects_as_a_summary_and_a_csv(db, now):
    _references(db, now - timedelta(days=20))
    _, cid = _story(db, now)
    rows = effect.period_effects(db, store.iso(now), store.iso(now + timedelta(days=7)), now + timedelta(hours=50))
    assert [r["clarification_id"] for r in rows] == [cid] and rows[0]["expert"] == "李样本"
    assert effect.summary(rows) == ("期内发布澄清稿 1 篇，可评估 1 篇：发布后传播明显回落 1 篇，有所回落 0 篇，未见回落 0 篇；"
                                    "有对照的 1 篇中 1 篇回落快于未辟谣的预警事件。")
    table = list(csv.reader(io.StringIO(effect.effects_csv(rows).lstrip("\ufeff"))))
    assert tuple(table[0]) == effect.HEADER
    got = dict(zip(table[0], table[1]))
    assert (got["发布前新增条目"], got["发布后新增条目"], got["变化（%）"], got["结论"]) == ("3", "1", "-90.0", "发布后传播明显回落")
    assert (got["未辟谣的预警事件变化（中位，%）"], got["对照事件数"], got["对比"]) == ("-20.0", "5", "回落快于未辟谣的预警事件")
    assert (got["发布前质疑占比（%）"], got["发布后质疑占比（%）"]) == ("20.0", "100.0")
    assert effect.summary([]) == "期内没有发布澄清稿。"


def test_the_special_report_says_what_followed_the_clarification(db, now):
    alert_id, _ = _story(db, now)
    b = briefing.compute_briefing(db, alert_id, now + timedelta(hours=50))
    md = briefing.render_markdown(b)
    assert "辟谣效果（澄清稿发布前后各 24 小时）" in md
    assert "| 新增条目 | 3 | 1 |" in md and "| 新增互动 | 27 | 2 |" in md
    assert "| 有内容互动中质疑、辟谣类占比 | 20% | 100% |" in md
    assert "发布后传播明显回落（新增条目与互动 -90%）" in md and "发布以来仍有 1 条新的相关条目" in md
    assert "不代表因果" in md
    # the chart marks the hour it came out (13:00 in Beijing on the 24th)
    assert b.spread["timeline"]["bins"][briefing.clarification_bin(b)]["at"] == "11-24 13:00"
    assert briefing.timeline_chart_png(b)[:4] == b"\x89PNG"


def test_the_weekly_report_lists_the_effect_of_the_weeks_clarifications(db, now):
    _story(db, now)
    report = reports.compute_weekly(db, "2026-W48", now=now + timedelta(hours=50))
    md = reports.render_markdown(report)
    assert "期内发布澄清稿 1 篇，可评估 1 篇：发布后传播明显回落 1 篇" in md
    assert "| 淡盐水不能预防病毒感染 | 李样本 | 11-24 13:00 | 24.0 小时 | 3 → 1 | 27 → 2 | 发布后传播明显回落（新增条目与互动 -90%）" in md


def test_the_command_prints_and_writes_a_periods_effects(db_path, now, tmp_path):
    db = store.open_db(db_path)
    _story(db, now)
    db.conn.close()
    out = tmp_path / "效果.csv"
    result = CliRunner().invoke(cli, ["--db", str(db_path), "report", "effect", "--from", "2026-11-23",
                                      "--to", "2026-11-29", "--now", "2026-11-25T10:00:00Z", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "发布后传播明显回落 1 篇" in result.output
    assert out.read_text(encoding="utf-8").lstrip("\ufeff").splitlines()[0] == ",".join(effect.HEADER)
    result = CliRunner().invoke(cli, ["--db", str(db_path), "report", "effect", "--from", "2026-11-23",
                                      "--to", "2026-11-29", "--now", "2026-11-25T10:00:00Z", "--json"])
    [row] = json.loads(result.output)
    assert row["status"] == "fell" and row["before"]["items"] == 3


def test_the_alert_ledger_says_what_followed_each_clarification(db, now):
    from rumourwatch import ledger

    _references(db, now - timedelta(days=20))
    alert_id, _ = _story(db, now)
    text, n = ledger.ledger_csv(db, store.iso(now - timedelta(days=30)), store.iso(now + timedelta(days=1)),
                                now + timedelta(hours=50))
    rows = {r["预警编号"]: r for r in csv.DictReader(io.StringIO(text.lstrip("\ufeff")))}
    assert n == 6 and rows[str(alert_id)]["辟谣效果"] == "明显回落 -90%（回落快于未辟谣的预警事件）"
    assert all(r["辟谣效果"] == "" for k, r in rows.items() if k != str(alert_id))  # the others had none
