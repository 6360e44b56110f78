"""Notifications: webhook (WeCom / DingTalk group-bot JSON) and SMTP email, queued in the store.

Queueing happens inside the workflow action's transaction, so an alert and its notification are
written together; delivery (`deliver_pending`) runs afterwards, from the worker or from cron
(`rumourwatch alerts escalate`). Every attempt goes to the delivery log (`notification_attempts`).
A failed delivery stays pending and is retried with exponential backoff (base, 2×base, 4×base …
capped), by this run's successors: nothing is dropped. Non-urgent notifications wait out quiet
hours (China time); urgent ones (highest severity, escalations) go at once.
"""

from __future__ import annotations

import json
import mimetypes
import os
import smtplib
import socket
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

from . import store
from .records import CST, beijing, iso, parse_time

SEVERITY_EMOJI = {"一级": "🔴", "二级": "🟠", "三级": "🟡"}


def _china(ts: str | None) -> str:
    return beijing(ts, "%m-%d %H:%M") or "—"


def quiet_until(now: datetime, quiet_hours: str) -> datetime | None:
    """End of the quiet period `now` falls in (China time), or None when not quiet."""
    from .alerts import parse_quiet_hours

    span = parse_quiet_hours(quiet_hours)
    if span is None:
        return None
    start, end = span
    local = now.astimezone(CST)
    minute = local.hour * 60 + local.minute
    inside = (start <= minute < end) if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    end_today = local.replace(hour=end // 60, minute=end % 60, second=0, microsecond=0)
    if end_today <= local:
        end_today += timedelta(days=1)
    return end_today


def _queue(db, now: datetime, rules: dict, *, channel: str, target: str, subject: str, body: str, urgent: bool,
           alert_id: int | None, event: str) -> int:
    first = now
    if not urgent:
        first = quiet_until(now, rules["notify"]["quiet_hours"]) or now
    return store.insert_notification(db, {
        "created_at": iso(now), "channel": channel, "target": target, "subject": subject, "body": body,
        "urgent": int(urgent), "alert_id": alert_id, "event": event, "status": "pending", "attempts": 0,
        "next_attempt_at": iso(first)})


def _fan_out(db, now, rules, *, subject: str, lines: list[str], urgent: bool, alert_id, event: str,
             emails: list[str]) -> list[int]:
    ids = []
    body = "\n".join(lines)
    for hook in rules["notify"]["webhooks"]:
        ids.append(_queue(db, now, rules, channel="webhook", target=hook["url"] + "#" + hook.get("format", "markdown"),
                          subject=subject, body=body, urgent=urgent, alert_id=alert_id, event=event))
    for address in emails:
        ids.append(_queue(db, now, rules, channel="email", target=address, subject=subject, body=body,
                          urgent=urgent, alert_id=alert_id, event=event))
    return ids


def _alert_lines(alert: dict) -> list[str]:
    metrics = json.loads(alert.get("metrics") or "{}")
    reasons = "；".join(r["reason"] for r in json.loads(alert.get("rules") or "[]"))
    lines = [f"预警 #{alert['id']}（{alert['severity']}）：{alert.get('title') or ''}",
             f"触发原因：{reasons}",
             f"信息发布时限：{_china(alert['respond_by'])}（北京时间）"]
    if alert.get("conference_by"):
        lines.append(f"新闻发布会时限：{_china(alert['conference_by'])}（北京时间）")
    if metrics.get("copies") is not None:
        lines.append(f"传播：副本 {metrics.get('copies')} 条，转评 {metrics.get('reach')} 次")
    if metrics.get("keyword"):  # a watched keyword's digest: the search lists its stories
        lines.append(f"在条目检索中搜索「{metrics['keyword']}」可查看全部命中条目")
    return lines


def queue_alert_event(db, alert: dict, event: str, rules: dict, now: datetime) -> list[int]:
    """New or upgraded alert → monitors' group bots and emails."""
    urgent = alert["severity"] in rules["notify"]["urgent_severities"]
    verb = "新预警" if event == "alert_new" else "预警升级"
    subject = f"【{alert['severity']}{verb}】#{alert['id']} {alert.get('title') or ''}"[:120]
    return _fan_out(db, now, rules, subject=subject, lines=_alert_lines(alert), urgent=urgent, alert_id=alert["id"],
                    event=event, emails=rules["notify"]["monitor_emails"])


def queue_escalation(db, alert: dict, deadline: str, rules: dict, now: datetime, assignment: dict | None = None,
                     referral: dict | None = None) -> list[int]:
    """A missed deadline → leaders (and the group bots), urgent regardless of quiet hours; a unit
    that has not reported back on a referral → the monitors, who chase it (and the group bots)."""
    what = {"respond_by": "信息发布（5小时）时限已过", "conference_by": "新闻发布会（24小时）时限已过",
            "assignment": "专家指派超时未完成", "referral": "属地单位交办超时未反馈"}[deadline]
    subject = f"【超时督办】预警 #{alert['id']}：{what}"
    lines = [subject] + _alert_lines(alert)
    if assignment:
        lines.append(f"指派 #{assignment['id']} 状态：{assignment['status']}，应于 {_china(assignment['due_at'])} 前完成")
    if referral:
        lines.append(f"交办 #{referral['id']}：{referral['unit_name']}，应于 {_china(referral['due_at'])} 前反馈；"
                     f"交办事项：{referral['request']}")
    leaders = [] if referral else rules["notify"]["leader_emails"]
    unit = [referral["unit_email"]] if referral and referral.get("unit_email") else []  # the unit is chased too
    emails = list(dict.fromkeys(leaders + rules["notify"]["monitor_emails"] + unit))
    return _fan_out(db, now, rules, subject=subject, lines=lines, urgent=True, alert_id=alert["id"],
                    event=f"escalation:{deadline}", emails=emails)


def queue_assignment(db, alert: dict, expert: dict, assignment_id: int, rules: dict, now: datetime,
                     event: str = "assignment") -> list[int]:
    """Tell an expert (by email, when the roster has one) about an offered assignment."""
    if not expert.get("email"):
        return []
    urgent = alert["severity"] in rules["notify"]["urgent_severities"]
    subject = f"【澄清任务】预警 #{alert['id']}（{alert['severity']}）请确认是否接受"
    lines = [f"{expert['name']} 专家您好：", f"您被指派处理预警 #{alert['id']}，任务编号 #{assignment_id}。",
             *_alert_lines(alert), "请登录专家工作台接受或婉拒。"]
    return [_queue(db, now, rules, channel="email", target=expert["email"], subject=subject, body="\n".join(lines),
                   urgent=urgent, alert_id=alert["id"], event=event)]


def queue_referral(db, alert: dict, referral: dict, rules: dict, now: datetime) -> list[int]:
    """Tell a unit (by email, when it has a mailbox) of an alert referred to it: what to check and by
    when. Urgent for the severities that are (a 一级 or 二级 referral has hours, not a day)."""
    if not referral.get("unit_email"):
        return []
    urgent = alert["severity"] in rules["notify"]["urgent_severities"]
    subject = f"【交办】预警 #{alert['id']}（{alert['severity']}）请于 {_china(referral['due_at'])} 前核实反馈"
    lines = [f"{referral['unit_name']}：", f"委办公室交办事项 #{referral['id']}：{referral['request']}",
             f"反馈时限：{_china(referral['due_at'])}（北京时间）", *_alert_lines(alert),
             "请登录平台“信息报送”页面反馈核实情况和处置措施，或电话告知委办公室。"]
    return [_queue(db, now, rules, channel="email", target=referral["unit_email"], subject=subject,
                   body="\n".join(lines), urgent=urgent, alert_id=alert["id"], event="referral")]


def queue_unit_reminder(db, unit: dict, month: dict, days_left: int, rules: dict, now: datetime) -> list[int]:
    """Remind a unit (its mailbox) near the month's end that it has not reached its minimum (催报)."""
    if not unit.get("email"):
        return []
    short = month["minimum"] - month["counted"]
    subject = f"【信息报送提醒】{unit['name']}本月还差 {short} 条"
    state = (f"按月通报制度，每单位每月报送信息不少于 {month['minimum']} 条。本单位本月（{month['month']}）已报送 "
             f"{month['submitted']} 条、本单位专家发布澄清 {month['clarifications']} 条，合计 {month['counted']} 条，"
             f"还差 {short} 条；本月还剩 {days_left} 天（含今天）。")
    lines = [f"{unit['name']}：", state, "请通讯员登录平台“信息报送”页面报送，或将信息发送至委办公室代为登记。"]
    return [_queue(db, now, rules, channel="email", target=unit["email"], subject=subject, body="\n".join(lines),
                   urgent=False, alert_id=None, event="unit_reminder")]


def queue_reminder(db, alert: dict, expert: dict, assignment: dict, minutes_left: int, rules: dict,
                   now: datetime) -> list[int]:
    """Remind an expert (by email, when the roster has one) that their accepted task is nearly due.
    Urgent: a reminder held back by quiet hours would come after the deadline."""
    if not expert or not expert.get("email"):
        return []
    subject = f"【即将超时】预警 #{alert['id']}（{alert['severity']}）澄清任务还剩 {minutes_left} 分钟"
    due = (f"您接受的任务 #{assignment['id']} 须在 {_china(assignment['due_at'])}（北京时间）前提交澄清稿，"
           f"还剩约 {minutes_left} 分钟；超时将报领导督办。")
    lines = [f"{expert['name']} 专家您好：", due, *_alert_lines(alert),
             "请登录专家工作台完成并提交审核；如无法按时完成，请在工作台婉拒，任务将改派其他专家。"]
    return [_queue(db, now, rules, channel="email", target=expert["email"], subject=subject, body="\n".join(lines),
                   urgent=True, alert_id=alert["id"], event="assignment_reminder")]


def _media_lines(request: dict) -> list[str]:
    lines = [f"媒体：{request['outlet']}（{request['outlet_level']}媒体）"
             + (f"，栏目：{request['programme']}" if request.get("programme") else ""),
             f"形式：{request['kind']}；时间：{_china(request['starts_at'])}（北京时间），约 {request['hours']:g} 小时",
             f"话题：{request.get('topic') or '未指定'}"]
    if request.get("contact"):
        lines.append(f"联系人：{request['contact']}")
    if request.get("note"):
        lines.append(f"说明：{request['note']}")
    return lines


def queue_media(db, request: dict, event: str, rules: dict, now: datetime, expert: dict | None = None,
                reason: str = "") -> list[int]:
    """A media request for a pool expert (rumourwatch.media): `offer`, `reminder`, `withdrawn` and
    `cancelled` mail the expert (when the roster has an address); `declined` and `unanswered` tell the
    monitors' bots and mailboxes, who invite another expert. Never urgent: an invitation is for a time
    to come."""
    head = f"媒体约请 #{request['id']}"
    if event in ("declined", "unanswered"):  # to the monitors, who invite another expert
        if event == "declined":
            subject = f"【媒体约请】{expert['name']}婉拒了{request['outlet']}的约请，请改请其他专家"
            first = f"{head}：{expert['name']}婉拒，原因：{reason}"
            ask = "请在“媒体约请”页查看推荐专家并改请。"
        else:
            subject = f"【媒体约请】{expert['name']}尚未答复{request['outlet']}的约请"
            first = f"{head}：已约请{expert['name']}，尚未答复，已发邮件提醒。"
            ask = "如仍无答复，可在“媒体约请”页撤回并改请其他专家。"
        return queue_monitors(db, subject, [first, *_media_lines(request), ask], rules, now, event=f"media_{event}")
    if not expert or not expert.get("email"):
        return []
    if event == "offer":
        subject = f"【媒体约请】{request['outlet']}约请您参加{request['kind']}，请确认是否接受"
        lines = [f"{expert['name']} 专家您好：", f"{head}：{request['outlet']}希望邀请您参加{request['kind']}。",
                 *_media_lines(request), "请登录专家工作台接受或婉拒。"]
    elif event == "reminder":
        subject = f"【媒体约请提醒】{request['outlet']}的{request['kind']}尚待您答复"
        lines = [f"{expert['name']} 专家您好：", f"{head}尚待您答复。", *_media_lines(request),
                 "请登录专家工作台接受或婉拒，以便媒体及时安排。"]
    elif event == "withdrawn":
        subject = f"【媒体约请撤回】{request['outlet']}的{request['kind']}已改请其他专家"
        lines = [f"{expert['name']} 专家您好：", f"{head}已撤回，原因：{reason}", *_media_lines(request),
                 "无需再答复或准备，谢谢您的支持。"]
    else:
        subject = f"【媒体约请取消】{request['outlet']}的{request['kind']}已取消"
        lines = [f"{expert['name']} 专家您好：", f"{head}已取消，原因：{reason}", *_media_lines(request),
                 "无需再准备，谢谢您的支持。"]
    return [_queue(db, now, rules, channel="email", target=expert["email"], subject=subject, body="\n".join(lines),
                   urgent=False, alert_id=None, event=f"media_{event}")]


def queue_withdrawal(db, alert: dict, expert: dict, assignment_id: int, reason: str, rules: dict,
                     now: datetime, dismissed: bool = True) -> list[int]:
    """Tell the expert (as `queue_assignment` told them of the offer) that the task was withdrawn:
    the alert was dismissed, or (`dismissed` False) a monitor took the task back to give it to
    someone else (the expert is away, or has not answered), so nothing more is needed from them."""
    if not expert.get("email"):
        return []
    urgent = alert["severity"] in rules["notify"]["urgent_severities"]
    if dismissed:
        subject = f"【任务撤回】预警 #{alert['id']}（{alert['severity']}）已排除，无需继续处理"
        head = [f"预警 #{alert['id']} 已被排除，您的任务 #{assignment_id} 已撤回。", f"排除原因：{reason}"]
    else:
        subject = f"【任务撤回】预警 #{alert['id']}（{alert['severity']}）的任务已撤回改派，无需继续处理"
        head = [f"您在预警 #{alert['id']} 上的任务 #{assignment_id} 已由监测员撤回，将另行指派。", f"撤回原因：{reason}"]
    lines = [f"{expert['name']} 专家您好：", *head, *_alert_lines(alert),
             "该任务已移入专家工作台的“已撤回的任务”，无需再起草或提交澄清稿。"]
    return [_queue(db, now, rules, channel="email", target=expert["email"], subject=subject, body="\n".join(lines),
                   urgent=urgent, alert_id=alert["id"], event="assignment_withdrawn")]


def queue_review_event(db, alert: dict, clarification: dict, event: str, rules: dict, now: datetime,
                       expert: dict | None = None, reviewers: list[dict] | None = None) -> list[int]:
    """A clarification moving through review, so the alert's 5-hour clock does not wait on someone
    happening to open the workbench: a draft submitted ("review_requested") or approved
    ("clarification_approved", to be published) → the monitors' group bots and emails, and for a
    submitted one the suggested reviewers of its field (experts.suggest_reviewers) by email too; a
    draft returned ("clarification_returned") → its author, by email when the roster has one."""
    urgent = alert["severity"] in rules["notify"]["urgent_severities"]
    title = clarification.get("title") or ""
    head = f"澄清稿 #{clarification['id']}「{title}」（预警 #{alert['id']}，{alert['severity']}）"
    due = f"信息发布时限：{_china(alert['respond_by'])}（北京时间）"
    if event == "clarification_returned":
        if not (expert and expert.get("email")):
            return []
        lines = [f"{expert['name']} 专家您好：", f"您的{head}在审核中被退回修改。",
                 f"审核意见：{clarification.get('review_note') or ''}", due, "请在专家工作台修改后重新提交审核。"]
        return [_queue(db, now, rules, channel="email", target=expert["email"], subject=f"【退回修改】{head}"[:120],
                       body="\n".join(lines), urgent=urgent, alert_id=alert["id"], event=event)]
    emails = list(rules["notify"]["monitor_emails"])
    if event == "review_requested":
        subject = f"【待审核】{head}"
        lines = [f"{head}已提交，等待审核（作者以外的专家或监测员均可审核）。", due]
        if reviewers:
            lines.append("建议审核专家（本领域）：" + "、".join(f"{r['name']}（{r['institution']}）" for r in reviewers))
            emails += [r["email"] for r in reviewers if r.get("email") and r["email"] not in emails]
        lines.append("请在专家工作台审核。")
    else:
        subject = f"【待发布】{head}已审核通过"
        lines = [f"{head}已由 {clarification.get('reviewed_by') or ''} 审核通过。", due,
                 "请发布并在专家工作台记录发布链接。"]
    return _fan_out(db, now, rules, subject=subject[:120], lines=lines, urgent=urgent, alert_id=alert["id"],
                    event=event, emails=emails)


def queue_source_notice(db, row: dict, health: dict, event: str, rules: dict, now: datetime,
                        stalled_since: str | None = None) -> list[int]:
    """A source that seems to have stopped (`event` "source_stalled": worker.source_health says it
    gave no new item, or was not read, for the quiet hours, or kept failing as long), or that gives
    items again ("source_recovered", with `stalled_since` the time the stall was counted from) →
    monitors' group bots and emails. A stopped worker (not_read) is urgent: nothing is collected
    until someone restarts it, and a rumour's 5-hour clock runs all the same."""
    from .reports import duration_text

    source = row["source"]
    if event == "source_recovered":
        since = parse_time(stalled_since) if stalled_since else None
        subject = f"【数据源恢复】{source}"
        lines = [f"数据源 {source} 已恢复，{_china(iso(now))} 起又有新条目" + (
            f"（自 {_china(stalled_since)} 起中断约 {duration_text((now - since).total_seconds() / 3600)}）。"
            if since else "。")]
        urgent = False
    else:
        age, since = duration_text(health["hours"] or 0.0), _china(health["since"])
        if health["state"] == "not_read":
            subject = f"【采集停止】数据源 {source} 已 {age}未读取"
            lines = [f"采集程序自 {since} 起未读取数据源 {source}（已 {age}）。",
                     "请检查采集程序（rumourwatch watch）是否仍在运行；恢复之前不会收集新条目，也不会产生新预警。"]
        else:
            subject = f"【数据源中断】{source} 已 {age}没有新条目"
            lines = [f"数据源 {source} 自 {since} 起没有新条目（已 {age}）。"]
            if health["state"] == "error":
                lines.append(f"最近一次读取失败（{_china(row.get('last_error_at'))}）：{row.get('last_error') or ''}")
            lines.append("来源可能已中断或改版：请在“数据源与质量”页查看。")
        lines.append("恢复之前，实时监测页与周报、月通报中的条目数和各项比例会偏低。")
        urgent = health["state"] == "not_read"
    return _fan_out(db, now, rules, subject=subject, lines=lines, urgent=urgent, alert_id=None, event=event,
                    emails=rules["notify"]["monitor_emails"])


def queue_readings(db, new: list[dict], waiting: dict[str, int], rules: dict, now: datetime) -> list[int]:
    """Posts in a script the models cannot read that arrived and wait for a reader (`new`, newest
    first, each with its `language`; `waiting`: all that wait, by script; rumourwatch.readings) →
    monitors' group bots and emails. Not urgent: they are not yet known to be about health."""
    from .language import LANGUAGE_ZH, scripts_text

    arrived = Counter(r["language"] for r in new)
    lines = [" ".join(part for part in (f"#{r['id']}", LANGUAGE_ZH.get(r["language"], r["language"]), r["platform"],
                                        r["account"], f"{_china(r['published_at'])} 发布") if part)
             for r in new[:READINGS_LISTED]]
    if len(new) > READINGS_LISTED:
        lines.append(f"…另有 {len(new) - READINGS_LISTED} 条")
    lines.append(f"目前共有 {sum(waiting.values()):,} 条待判读（{scripts_text(waiting)}）。模型只读中文，未评估这些条目："
                 "请懂该文字的同事在“民族文字判读”页判读；判读之前，它们不计入舆情比例和报告。")
    return queue_monitors(db, f"【待判读】新增 {len(new)} 条民族文字条目（{scripts_text(arrived)}）", lines, rules, now,
                          event="readings_waiting")


READINGS_LISTED = 10  # posts named in one notice


def queue_health_day(db, day: dict, rules: dict, now: datetime) -> list[int]:
    """A 卫生健康纪念日 a few days ahead (rumourwatch.healthdays.upcoming's row) → monitors' group bots
    and emails: its topic's recent figures, last year's, the experts and clarifications at hand.
    Not urgent: it is days away."""
    from .healthdays import RECENT_DAYS

    first = date.fromisoformat(day["first"])
    when = f"{first.month} 月 {first.day} 日" + ("" if day["last"] == day["first"] else f"起共 "
                                                 f"{(date.fromisoformat(day['last']) - first).days + 1} 天")
    lines = [f"{day['in_days']} 天后（{when}）是{day['name']}（{day['topic']}）。",
             f"近 {RECENT_DAYS} 天该话题健康条目 {day['recent_items']:,} 条，其中疑似谣言 {day['recent_flagged']:,} 条"
             + ("。" if day["last_year_flagged"] is None else f"；去年同期前后疑似谣言 {day['last_year_flagged']:,} 条。"),
             f"专家库中可就该话题约请的专家 {day['experts']} 位，本平台已发布该话题澄清 {day['clarifications']} 篇。",
             "请提前准备科普与辟谣内容、安排媒体活动（详见“舆情风险点”页的“宣传节点”）。"]
    return queue_monitors(db, f"【宣传节点】{day['in_days']} 天后是{day['name']}", lines, rules, now, event="health_day")


def queue_monitors(db, subject: str, lines: list[str], rules: dict, now: datetime, *, event: str) -> list[int]:
    """A routine notice (a shift's handover, a health day or a 事前研判 ahead, posts waiting for a
    reader, an invitation declined) → the monitors' group bots and emails, tagged `event`. Not
    urgent: quiet hours hold it like any routine message."""
    return _fan_out(db, now, rules, subject=subject, lines=lines, urgent=False, alert_id=None, event=event,
                    emails=rules["notify"]["monitor_emails"])


def queue_handover(db, handover_id: int, subject: str, lines: list[str], rules: dict, now: datetime) -> list[int]:
    """A shift's handover (rumourwatch.handover) → monitors' group bots and emails: the next shift
    reads it before opening the dashboard."""
    return queue_monitors(db, subject, lines, rules, now, event="handover")


def queue_security(db, subject: str, lines: list[str], rules: dict, now: datetime) -> list[int]:
    """A security notice (rumourwatch.audit.notify_security) → the administrators' mailboxes only:
    login names and lockouts are not for a group chat. Urgent: quiet hours do not hold back a
    password-guessing attack."""
    return [_queue(db, now, rules, channel="email", target=address, subject=subject, body="\n".join(lines),
                   urgent=True, alert_id=None, event="security") for address in rules["notify"]["admin_emails"]]


# --- a test message on every channel ----------------------------------------------------------

TEST_SUBJECT = "【测试】健康谣言监测平台通知测试"


def _masked(url: str) -> str:
    """A webhook URL without its query string (the bot's key is a secret), for the audit log."""
    return url.split("?", 1)[0] + ("?…" if "?" in url else "")


def send_test(db, rules: dict, now: datetime, actor: str) -> list[dict]:
    """Send a test message now, directly (not queued, never retried), to every group bot and every
    monitors', leaders' and administrators' mailbox of the rules, so an administrator sees each
    channel work, or why not, before an alert needs it. Returns {"channel", "target", "lists", "ok",
    "detail"} per target; audited (notify.test) with the results, webhook keys left out. WorkflowError
    when no channel is set."""
    from .alerts import WorkflowError

    cfg = rules["notify"]
    body = "\n".join([f"这是一条测试消息，由 {actor} 于 {_china(iso(now))}（北京时间）发送，用于确认通知渠道畅通。",
                      "收到即说明本渠道可用，无需回复。"])
    targets: list[dict] = [{"channel": "webhook", "target": h["url"], "format": h.get("format", "markdown"),
                            "lists": ["webhooks"]} for h in cfg["webhooks"]]
    mailboxes: dict[str, list[str]] = {}
    for name in ("monitor_emails", "leader_emails", "admin_emails"):
        for address in cfg[name]:
            mailboxes.setdefault(address, []).append(name)
    targets += [{"channel": "email", "target": a, "lists": lists} for a, lists in mailboxes.items()]
    if not targets:
        raise WorkflowError("no notification channel is set: add a group-bot webhook or a mailbox to the rules first",
                            "notify_test_nothing")
    results = []
    for target in targets:
        ok, detail = send_on(cfg, target["channel"], target["target"], TEST_SUBJECT, body,
                             target.get("format", "markdown"))
        results.append({"channel": target["channel"], "target": target["target"], "lists": target["lists"],
                        "ok": ok, "detail": detail})
    with store.transaction(db):
        store.record_audit(db, actor, "notify.test", "rules", None, {"results": [
            {"channel": r["channel"], "target": _masked(r["target"]) if r["channel"] == "webhook" else r["target"],
             "ok": r["ok"], "detail": (r["detail"].replace(r["target"], _masked(r["target"]))
                                       if r["channel"] == "webhook" else r["detail"])[:200]}
            for r in results]}, at=iso(now))
    return results


# --- delivery --------------------------------------------------------------------------------

class DeliveryError(Exception):
    """One delivery attempt failed (the message is logged)."""


def webhook_payload(subject: str, body: str, fmt: str = "markdown") -> dict:
    """A WeCom / DingTalk group-bot message. DingTalk's markdown also needs a title; WeCom ignores it."""
    if fmt == "text":
        return {"msgtype": "text", "text": {"content": f"{subject}\n{body}"}}
    content = f"### {subject}\n" + "\n".join(f"> {line}" for line in body.splitlines())
    return {"msgtype": "markdown", "markdown": {"title": subject, "content": content, "text": content}}


def send_webhook(url: str, payload: dict, timeout: float) -> str:
    data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
    req = urllib.request.Request(url, data=data, method="POST",
                                 headers={"Content-Type": "application/json; charset=utf-8"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            text = resp.read(2000).decode("utf-8", "replace")
            status = resp.status
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"HTTP {exc.code} from {url}") from None
    except (urllib.error.URLError, socket.timeout, ConnectionError, OSError) as exc:
        raise DeliveryError(f"cannot reach {url}: {getattr(exc, 'reason', exc)}") from None
    # WeCom and DingTalk answer 200 with {"errcode": N, "errmsg": ...}; non-zero is a failure.
    try:
        answer = json.loads(text) if text.strip() else {}
    except ValueError:
        answer = {}
    if isinstance(answer, dict) and answer.get("errcode") not in (None, 0):
        raise DeliveryError(f"bot refused: errcode {answer.get('errcode')} {answer.get('errmsg', '')}")
    return f"HTTP {status}"


@contextmanager
def smtp_session(cfg: dict) -> Iterator[smtplib.SMTP]:
    """A session with the channel's SMTP server: connected, greeted, STARTTLS and logged in as the
    rules say (the mail is sent through it; `rumourwatch check` only greets it). Raises what smtplib
    and the socket raise."""
    with smtplib.SMTP(cfg["smtp_host"], int(cfg["smtp_port"]), timeout=cfg["timeout_seconds"]) as smtp:
        smtp.ehlo()
        if cfg["smtp_starttls"]:
            smtp.starttls()
            smtp.ehlo()
        if cfg["smtp_user"]:
            smtp.login(cfg["smtp_user"], os.environ.get(cfg["smtp_password_env"], ""))
        yield smtp


def send_email(cfg: dict, to: str, subject: str, body: str, files: Sequence[Path] = ()) -> str:
    """One mail through the channel's SMTP server, with `files` attached (the reports' PDF/HTML)."""
    if not cfg["smtp_host"]:
        raise DeliveryError("no SMTP server configured (notify.smtp_host is empty)")
    msg = EmailMessage()
    msg["From"] = cfg["smtp_from"]
    msg["To"] = to
    msg["Subject"] = subject
    msg.set_content(body)
    for f in files:
        main, sub = (mimetypes.guess_type(f.name)[0] or "application/octet-stream").split("/", 1)
        msg.add_attachment(f.read_bytes(), maintype=main, subtype=sub, filename=f.name)
    try:
        with smtp_session(cfg) as smtp:
            refused = smtp.send_message(msg)
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {cfg['smtp_host']}:{cfg['smtp_port']}: {exc}") from None
    if refused:
        raise DeliveryError(f"SMTP refused recipients: {refused}")
    return f"SMTP accepted for {to}"


def send_on(cfg: dict, channel: str, target: str, subject: str, body: str, fmt: str = "markdown",
            files: Sequence[Path] = ()) -> tuple[bool, str]:
    """One message on one channel now ("webhook": `target` is the bot's URL, `fmt` its message
    format; "email": a mailbox, with `files` attached): (whether it went, the server's answer or why
    not). The queue's deliveries, the reports sent by cron and the test message all go through it."""
    try:
        if channel == "webhook":
            return True, send_webhook(target, webhook_payload(subject, body, fmt), cfg["timeout_seconds"])
        return True, send_email(cfg, target, subject, body, files)
    except DeliveryError as exc:
        return False, str(exc)


def backoff(attempts: int, cfg: dict) -> timedelta:
    """Wait before the next try after `attempts` failures: base × 2^(attempts-1), capped."""
    seconds = cfg["retry_base_seconds"] * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, cfg["retry_max_seconds"]))


# A group bot takes about 20 messages a minute (WeCom, DingTalk) and a markdown message of at most
# 4,096 bytes (WeCom): the non-urgent notifications due for one target at once go out combined,
# as few messages as fit in this many bytes of UTF-8 each. Mail is combined the same way, so a
# morning after quiet hours is one mail, not fifty.
BATCH_BYTES = 3800


def _batches(rows: list[dict], limit: int | None = None) -> list[list[dict]]:
    """`rows` (one target's non-urgent notifications, oldest first) cut into runs whose combined
    text stays within `limit` bytes (BATCH_BYTES); a notification too long for any run goes alone."""
    limit = limit or BATCH_BYTES
    out: list[list[dict]] = []
    size = 0
    for r in rows:
        n = len(f"{r['subject']}\n{r['body']}\n\n".encode())
        if out and size + n <= limit:
            out[-1].append(r)
            size += n
        else:
            out.append([r])
            size = n + 200  # the combined message's own heading
    return out


def combined_message(rows: list[dict]) -> tuple[str, str]:
    """The subject and body of one message carrying `rows` (several notifications, oldest first)."""
    if len(rows) == 1:
        return rows[0]["subject"], rows[0]["body"]
    subject = f"【通知汇总】共 {len(rows)} 条：" + "；".join(r["subject"] for r in rows)
    body = "\n\n".join(f"（{i}）{r['subject']}\n{r['body']}" for i, r in enumerate(rows, 1))
    return subject[:120], body


def deliver_pending(db, now: datetime, rules: dict, limit: int = 200) -> dict:
    """Try every pending notification whose time has come; log each attempt. Urgent ones go one by
    one; the others due for the same target at once go combined (`_batches`). Returns counts of
    notifications (sent, failed, and deferred: not tried because the same target failed moments ago)."""
    cfg = rules["notify"]
    counts = {"sent": 0, "failed": 0, "deferred": 0}
    by_target: dict[str, list[dict]] = {}
    for n in store.due_notifications(db, iso(now), limit):
        by_target.setdefault(n["target"], []).append(n)
    for target, rows in by_target.items():
        units = [[r] for r in rows if r["urgent"]] + _batches([r for r in rows if not r["urgent"]])
        for k, unit in enumerate(units):
            subject, body = combined_message(unit)
            url, _, fmt = target.rpartition("#")  # a webhook's target is url#format
            ok, detail = send_on(cfg, unit[0]["channel"], url or target, subject, body, fmt or "markdown")
            if len(unit) > 1:
                detail += f"（{len(unit)} 条合并发送）"
            with store.transaction(db):
                for r in unit:
                    store.record_delivery(db, r["id"], iso(now), ok, detail,
                                          None if ok else iso(now + backoff(r["attempts"] + 1, cfg)))
            counts["sent" if ok else "failed"] += len(unit)
            if not ok:
                # the same server just failed: don't wait out another timeout; a later run retries the rest
                counts["deferred"] += sum(len(u) for u in units[k + 1:])
                break
    return counts
