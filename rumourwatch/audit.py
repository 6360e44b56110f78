"""审计日志, read back: who did what and when, found by period, person, kind of action and object,
named in Chinese, and exported as CSV for the reviews an administrator owes (the 审计日志 page,
`rumourwatch audit`). Writing an entry is `store.record_audit`, inside each action's transaction.

Every action code the software writes has a Chinese name here (a test reads the code base for
them); a code without one (a newer version's, in a restored store) is shown as stored. An export is
itself audited (`audit.export`: who took the log away, with which conditions and how many entries).

Sign-in and account records that need a look (a lockout, a burst of failed logins, a new
administrator, a restore) are also mailed to the administrators as they happen (`notify_security`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from . import store
from .exports import csv_text
from .records import beijing, iso

ACTION_ZH = {
    "login": "登录", "login.failed": "登录失败", "logout": "退出登录", "session.start": "免密码开启会话（测试或受信工具）",
    "session.expired": "登录超时", "session.end": "强制下线（结束账号的全部登录）", "user.locked": "账号锁定（多次输错密码）",
    "user.add": "新增账号", "user.disable": "停用账号", "user.enable": "启用账号", "user.role": "修改角色",
    "user.password": "修改密码", "user.unlock": "解除锁定", "user.two_step_on": "开启两步验证",
    "user.two_step_off": "关闭两步验证", "user.two_step_reset": "重置两步验证（管理员）",
    "user.recovery_codes": "生成两步验证恢复码",
    "alert.create": "生成预警", "alert.upgrade": "预警升级", "alert.escalate": "预警超时督办",
    "alert.raise": "人工上报预警", "alert.dismiss": "排除预警", "alert.info_released": "记录已发布信息",
    "alert.conference_held": "记录已召开新闻发布会", "alert.briefing_sent": "报送舆情专报",
    "alert.refer": "交办属地单位", "alert.referral_reply": "属地单位反馈", "alert.referral_withdraw": "撤回交办",
    "verdict.record": "记录研判结论", "takedown.request": "请求平台删除", "takedown.removed": "平台已删除",
    "takedown.refused": "平台拒绝删除", "tip.record": "登记举报线索", "reading.record": "民族文字人工判读",
    "handover.write": "值班交接", "handover.receive": "确认接班",
    "submission.submit": "单位报送信息", "submission.withdraw": "撤回报送信息", "submission.adopt": "采用报送信息",
    "submission.decline": "不采用报送信息", "submission.remind": "提醒单位报送信息（月底前）",
    "submission.import": "导入报送台账",
    "training.record": "登记培训", "training.remove": "删除培训记录",
    "press.record": "登记新闻发布或媒体活动", "press.remove": "删除新闻发布或媒体活动记录",
    "healthday.add": "添加本地卫生健康纪念日", "healthday.edit": "修改本地卫生健康纪念日",
    "healthday.remove": "删除本地卫生健康纪念日",
    "ownmedia.add": "登记政务新媒体账号", "ownmedia.remove": "删除政务新媒体账号",
    "assessment.save": "保存事前舆情风险评估", "assessment.remove": "删除事前舆情风险评估",
    "assignment.offer": "指派专家", "assignment.accept": "专家接受任务", "assignment.decline": "专家婉拒任务",
    "assignment.cancel": "撤回专家任务", "assignment.withdraw": "撤回改派", "assignment.reassign": "改派专家",
    "assignment.escalate": "专家任务超时督办", "assignment.remind": "专家任务临期提醒",
    "clarification.draft": "保存澄清稿", "clarification.submit": "提交澄清稿审核", "clarification.approve": "审核通过澄清稿",
    "clarification.return": "退回澄清稿修改", "clarification.publish": "发布澄清", "clarification.withdraw": "撤回澄清稿",
    "expert.absence_add": "登记专家不可用时段", "expert.absence_remove": "删除专家不可用时段",
    "experts.import": "导入专家名单", "experts.publish_list": "公布专家库名单", "experts.activate": "启用专家", "experts.deactivate": "停用专家",
    "media.request": "登记媒体约请", "media.offer": "向专家发出约请", "media.accept": "专家接受约请",
    "media.decline": "专家婉拒约请", "media.remind": "约请催复", "media.complete": "约请已完成",
    "media.cancel": "取消媒体约请", "media.withdraw": "撤回媒体约请",
    "model.retrain": "发起重新训练", "model.promote": "启用候选模型", "model.discard": "弃用候选模型",
    "model.rollback": "回退到上一版模型", "label.record": "数据标注",
    "rules.save": "保存预警规则", "notify.test": "发送测试通知", "source.reset_checkpoint": "重置数据源读取位置", "source.add": "添加数据源", "source.enable": "启用数据源",
    "source.disable": "停用数据源", "source.remove": "删除数据源", "backup": "备份数据库",
    "restore": "恢复数据库", "audit.export": "导出审计日志", "retention.apply": "清除超过保留期限的个人信息",
}

TARGET_ZH = {"alert": "预警", "assignment": "专家任务", "clarification": "澄清稿", "user": "账号", "expert": "专家",
             "experts": "专家库", "item": "条目", "tip": "举报线索", "takedown": "删除请求", "source": "数据源",
             "rules": "预警规则", "handover": "值班交接", "media_request": "媒体约请", "model": "模型",
             "database": "数据库", "audit": "审计日志", "submission": "报送信息", "unit": "单位",
             "training": "培训（通讯员或专家）", "press_conference": "新闻发布与媒体活动",
             "health_day": "卫生健康纪念日", "assessment": "事前舆情风险评估",
             "own_account": "政务新媒体账号"}

# The kinds an administrator looks for: a code is of the first kind one of whose names it is or
# starts with (name + "."); "other" holds the rest.
GROUPS = {
    "signin": ("login", "logout", "session", "user.locked"),
    "accounts": ("user",),
    "alerts": ("alert", "verdict", "takedown", "tip", "reading", "handover", "submission",
               "training", "press", "assessment"),
    "experts": ("assignment", "clarification", "expert", "experts", "media"),
    "models": ("model", "label"),
    "system": ("rules", "source", "backup", "restore", "audit", "retention", "notify", "healthday", "ownmedia"),
}
GROUP_ZH = {"signin": "登录与会话", "accounts": "账号与权限", "alerts": "预警处置", "experts": "专家与澄清",
            "models": "模型与标注", "system": "系统与配置", "other": "其他"}

EXPORT_LIMIT = 50_000  # the newest entries an export holds; the caller is told when there are more
CSV_HEADER = ("时间（北京时间）", "操作人", "操作", "操作代码", "对象类型", "对象", "详情")


def action_text(code: str) -> str:
    """The action's Chinese name, or the code itself for one this version does not know."""
    return ACTION_ZH.get(code, code)


def target_text(target_type: str | None, target_id) -> str:
    """'预警 #12', '账号 mon', '数据库 backups/x.db': the object as people name it."""
    if target_type is None and target_id is None:
        return ""
    kind = TARGET_ZH.get(target_type, target_type or "")
    if target_id is None:
        return kind
    shown = f"#{target_id}" if str(target_id).isdigit() else str(target_id)
    return f"{kind} {shown}".strip()


def group_of(code: str) -> str:
    for group, names in GROUPS.items():
        if any(code == n or code.startswith(n + ".") for n in names):
            return group
    return "other"


@dataclass(frozen=True)
class AuditQuery:
    """What to look for; every condition given must hold. `start` / `end`: UTC ISO bounds [start,
    end); `group`: a GROUPS key or "other"; `contains`: words in the action's Chinese name or code
    (letters in either case)."""
    start: str | None = None
    end: str | None = None
    actor: str | None = None
    group: str | None = None
    contains: str | None = None
    target_type: str | None = None
    target_id: str | None = None

    def conditions(self) -> dict:
        """The conditions given, for an export's audit entry."""
        return {k: v for k, v in asdict(self).items() if v not in (None, "")}


def matching_actions(known: list[str], group: str | None, contains: str | None) -> list[str] | None:
    """The codes among `known` of `group` whose Chinese name or code holds `contains`; None when
    neither is given (any action)."""
    if not group and not (contains or "").strip():
        return None
    words = (contains or "").strip().lower()
    return [c for c in known if (not group or group_of(c) == group)
            and (not words or words in c.lower() or words in action_text(c).lower())]


def _store_filters(db, query: AuditQuery) -> dict:
    return {"actor": query.actor or None, "target_type": query.target_type or None,
            "target_id": query.target_id or None, "start": query.start, "end": query.end,
            "actions": matching_actions(store.audit_actions(db), query.group, query.contains)}


def search(db, query: AuditQuery, limit: int = 200) -> tuple[list[dict], int]:
    """The newest `limit` entries that match, and how many match in all (the conditions are applied
    before the limit: an old entry is found however many came after it)."""
    filters = _store_filters(db, query)
    return store.audit_entries(db, limit=limit, **filters), store.count_audit_entries(db, **filters)


def details_text(raw) -> str:
    """An entry's details as one line of JSON with the Chinese as written."""
    if not raw:
        return ""
    try:
        return json.dumps(json.loads(raw), ensure_ascii=False)
    except ValueError:
        return str(raw)


def row(entry: dict) -> tuple:
    """One entry as the page and the CSV show it (CSV_HEADER's columns)."""
    return (beijing(entry["at"], "%Y-%m-%d %H:%M:%S"), entry["actor"], action_text(entry["action"]), entry["action"],
            TARGET_ZH.get(entry["target_type"], entry["target_type"]),
            target_text(entry["target_type"], entry["target_id"]), details_text(entry["details"]))


def export(db, query: AuditQuery, actor: str, now: datetime, limit: int = EXPORT_LIMIT) -> tuple[str, int, int]:
    """The matching entries, newest first, as CSV for Excel (formula-guarded: a login name typed at
    the login form is anyone's text), and the export recorded in the log it reads. Returns the text,
    the number of entries in it and how many matched."""
    with store.transaction(db):
        rows, total = search(db, query, limit)
        store.record_audit(db, actor, "audit.export", "audit", None,
                           {"conditions": query.conditions(), "rows": len(rows), "matched": total}, at=iso(now))
    return csv_text(CSV_HEADER, map(row, rows)), len(rows), total


# --- security notices --------------------------------------------------------------------------

SECURITY_KEY = "security_notice"  # workflow_state: the last entry told of, and when
SECURITY_WINDOW = timedelta(hours=1)  # failed logins are counted over this window
SECURITY_ACTIONS = ["login.failed", "user.locked", "user.add", "user.role", "restore", "login"]
SECURITY_LISTED = 8  # names listed in one notice
ROLE_ZH = {"monitor": "舆情监测员", "expert": "专家", "analyst": "分析员", "leader": "领导", "correspondent": "通讯员",
           "admin": "管理员"}
FAILURE_ZH = {"unknown_user": "无此账号", "wrong_password": "密码错误", "locked": "锁定期间尝试", "disabled": "账号已停用"}


def _name(value) -> str:
    """A login name as typed, cut short: anyone can type anything at the login form."""
    text = " ".join(str(value or "").split())
    return text if len(text) <= 32 else text[:31] + "…"


def _details(entry: dict) -> dict:
    try:
        return json.loads(entry["details"] or "{}")
    except ValueError:
        return {}


def security_notice(entries: list[dict], threshold: int) -> tuple[str, list[str]] | None:
    """The subject and lines telling administrators what in `entries` (sign-in and account records,
    the last hour's failures among them) needs a look, or None when nothing does: an account
    locked, an administrator account added or a role raised to admin, the database restored, a
    login by a two-step recovery code (the phone lost — or someone holding the password and a
    code), or `threshold` failed logins or more (0: failures alone are not told)."""
    entries = [dict(e, details=_details(e)) for e in entries]  # each entry's details read once
    by = {a: [e for e in entries if e["action"] == a] for a in SECURITY_ACTIONS}
    admins_added = [e for e in by["user.add"] if e["details"].get("role") == "admin"]
    raised = [e for e in by["user.role"] if e["details"].get("to") == "admin"]
    recovered = [e for e in by["login"] if e["details"].get("recovery_code")]
    failed = by["login.failed"]
    many_failed = threshold > 0 and len(failed) >= threshold
    if not (by["user.locked"] or admins_added or raised or by["restore"] or recovered or many_failed):
        return None
    subject, lines = [], []
    if by["user.locked"]:
        names = list(dict.fromkeys(_name(e["target_id"]) for e in by["user.locked"]))
        subject.append(f"账号 {'、'.join(names[:3])}{' 等' if len(names) > 3 else ''} 因多次输错密码被锁定")
        for e in by["user.locked"][:SECURITY_LISTED]:
            d = e["details"]
            lines.append(f"账号锁定：{_name(e['target_id'])}，连续输错 {d.get('failures', '?')} 次，"
                         f"锁定至 {beijing(d.get('until')) or '?'}（{beijing(e['at'])}）")
    if failed and (many_failed or by["user.locked"]):
        if many_failed:
            subject.append(f"近 1 小时登录失败 {len(failed)} 次")
        counts: dict[str, dict[str, int]] = {}
        for e in failed:
            reasons = counts.setdefault(_name(e["target_id"] or e["actor"]), {})
            reason = FAILURE_ZH.get(e["details"].get("reason"), "其他")
            reasons[reason] = reasons.get(reason, 0) + 1
        ranked = sorted(counts.items(), key=lambda kv: -sum(kv[1].values()))
        named = "、".join(f"{name} {sum(r.values())} 次（{'，'.join(r)}）" for name, r in ranked[:SECURITY_LISTED])
        more = f" 等 {len(counts)} 个登录名" if len(counts) > SECURITY_LISTED else ""
        lines.append(f"登录失败 {len(failed)} 次（{beijing(failed[0]['at'])} 起）：{named}{more}")
    for e in admins_added:
        subject.append(f"新增管理员账号 {_name(e['target_id'])}")
        lines.append(f"新增管理员账号：{_name(e['target_id'])}（操作人 {_name(e['actor'])}，{beijing(e['at'])}）")
    for e in raised:
        subject.append(f"账号 {_name(e['target_id'])} 改为管理员")
        was = ROLE_ZH.get(e["details"].get("from"), e["details"].get("from") or "?")
        lines.append(f"角色改为管理员：{_name(e['target_id'])}（原为{was}，操作人 {_name(e['actor'])}，{beijing(e['at'])}）")
    for e in recovered:
        subject.append(f"账号 {_name(e['target_id'])} 以恢复码登录")
        lines.append(f"以两步验证恢复码登录：{_name(e['target_id'])}（{beijing(e['at'])}，剩余恢复码 "
                     f"{e['details'].get('recovery_codes_left', '?')} 个）。如非本人（手机丢失）所为，请在“用户管理”页"
                     "重置其两步验证并修改密码")
    for e in by["restore"]:
        subject.append("数据库已从备份恢复")
        lines.append(f"数据库已从备份 {e['target_id']} 恢复（操作人 {_name(e['actor'])}，{beijing(e['at'])}）")
    lines.append("详情见“审计日志”页（操作类别：登录与会话、账号与权限）。如非本单位人员所为，"
                 "请及时修改相关账号的密码、停用可疑账号，并排查登录来源。")
    return "【安全提醒】" + "；".join(subject[:3]) + (" 等" if len(subject) > 3 else ""), lines


def notify_security(db, now: datetime, rules: dict) -> dict | None:
    """Tell the administrators' mailboxes (notify.admin_emails) of the sign-in and account records
    since the last notice that need a look (`security_notice`): a lockout, a new administrator, a
    restore, or notify.security_failed_logins failed logins within the last hour (guessing
    passwords across many login names locks no account). Each record is told once. Run by the
    worker's round and `rumourwatch alerts escalate`. Returns {"entries", "notifications"}, or None
    when nothing needed telling (or no administrator's address is set)."""
    from .notify import queue_security

    if not rules["notify"]["admin_emails"]:
        return None
    mark = json.loads(store.workflow_state(db, SECURITY_KEY) or "{}")
    entries = store.audit_after(db, int(mark.get("id") or 0), iso(now - SECURITY_WINDOW), SECURITY_ACTIONS)
    notice = security_notice(entries, int(rules["notify"]["security_failed_logins"]))
    if notice is None:
        return None
    with store.transaction(db):
        ids = queue_security(db, *notice, rules, now)
        store.set_workflow_state(db, SECURITY_KEY, json.dumps({"id": max(e["id"] for e in entries), "at": iso(now)}))
    return {"entries": len(entries), "notifications": ids}
