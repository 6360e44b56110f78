"""预警处置台账: every alert raised in a period with how it was handled, as the CSV a monitoring
office keeps in Excel and hands upward: what was found and when, the 5-hour and 24-hour clocks
(seed 001) with whether each was met, who was assigned, the clarification's link, when the leaders
were sent a special report on it (舆情专报), and why an alert was dismissed. The 预警 page downloads
it for a period; `rumourwatch alerts export` writes it.

Times are Beijing time; an alert belongs to the period it was raised in.
"""

from __future__ import annotations

import json
from datetime import datetime

from . import store
from .experts import VERDICTS
from .exports import csv_text
from .records import beijing, hours_between, parse_time

ALERT_STATUS_ZH = {"open": "待处置", "assigned": "已指派", "in_progress": "专家处理中", "in_review": "审核中",
                   "published": "已澄清", "dismissed": "已排除"}
ALERT_KIND_ZH = {"rumour": "疑似谣言", "keyword": "关注词/账号", "opinion_spike": "负面舆情突增", "tip": "公众举报",
                 "tag_surge": "话题热度上升", "manual": "人工上报"}

ASSIGN_STATUS_ZH = {"offered": "待专家确认", "accepted": "已接受", "declined": "已婉拒", "submitted": "已提交审核",
                    "completed": "已完成", "cancelled": "已取消"}
CLARIFICATION_STATUS_ZH = {"draft": "草稿", "in_review": "审核中", "approved": "已通过待发布", "published": "已发布"}
TAKEDOWN_STATUS_ZH = {"requested": "已请求", "removed": "已删除", "refused": "已拒绝"}
STEP_ZH = {"created": "生成预警", "upgraded": "预警升级", "reopened": "重新打开", "confirmed": "监测员确认",
           "assigned": "指派专家", "accepted": "专家接受", "declined": "专家婉拒", "unassigned": "退回监测员",
           "drafted": "起草澄清稿", "submitted": "提交审核", "returned": "退回修改", "approved": "审核通过",
           "published": "发布澄清", "dismissed": "排除（误报）", "cancelled": "撤回专家任务", "withdrawn": "撤回改派",
           "info_released": "已发布信息", "conference_held": "已召开新闻发布会", "escalated": "超时督办",
           "reminded": "临近时限提醒专家", "verdict": "研判结论", "briefing_sent": "报送舆情专报",
           "briefing_failed": "舆情专报未送达", "raised": "人工上报", "referred": "交办属地单位",
           "referral_replied": "属地单位反馈", "referral_withdrawn": "撤回交办"}
_STEP_DETAIL_ZH = {"respond_by": "信息发布时限", "conference_by": "发布会时限", "assignment": "专家指派",
                   "referral": "属地单位交办",
                   **VERDICTS}


def step_text(step: str) -> str:
    """An alert step in Chinese: 'escalated:respond_by' → '超时督办（信息发布时限）',
    'verdict:rumour' → '研判结论（确认谣言）'; a step with no Chinese name yet is shown as stored."""
    base, _, detail = step.partition(":")
    text = STEP_ZH.get(base, base)
    return f"{text}（{_STEP_DETAIL_ZH.get(detail, detail)}）" if detail else text


HEADER = ("预警编号", "级别", "类型", "标题", "话题", "地区", "触发原因", "涉及条目", "发现时间",
          "信息发布时限", "信息发布时间", "信息发布", "发布会时限", "发布会时间", "发布会",
          "状态", "指派专家", "澄清链接", "澄清发布时间", "辟谣效果", "专报报送时间", "关闭时间", "排除原因", "代表条目")


def clock_outcome(done_at: str | None, due_at: str | None, status: str, now: datetime) -> str:
    """Whether a clock was met, as the ledger says it: 按时 / 超时（晚 N 小时） when the step was
    recorded, else 超时未完成 past the deadline, 未到期 before it, 已排除 for a dismissed alert, and
    不需要 where the alert has no such clock (a press conference below 一级)."""
    if not due_at:
        return "不需要"
    if done_at:
        late = hours_between(due_at, done_at)
        return "按时" if late <= 0 else f"超时（晚 {late:.1f} 小时）"
    if status == "dismissed":
        return "已排除"
    return "超时未完成" if now > parse_time(due_at) else "未到期"


def ledger_csv(db, start: str, end: str, now: datetime) -> tuple[str, int]:
    """The ledger of [start, end) as CSV for Excel (exports.csv_text); returns the text and the
    number of alerts in it."""
    # imported here: the doubt cues load the rumour model's module, which the dashboard's strings need not
    from .effect import clarification_effect, short_text

    rows = store.alert_ledger(db, start, end)
    cache: dict = {}  # the clarifications of a period share their references

    def effect_of(a: dict) -> str | None:
        """What followed the alert's (latest) clarification, in one cell (rumourwatch.effect)."""
        if a["clarification_id"] is None:
            return None
        return short_text(clarification_effect(db, a["clarification_id"], now, cache=cache))

    def line(a: dict) -> tuple:
        reasons = "；".join(r["reason"] for r in json.loads(a["rules"] or "[]"))
        return (a["id"], a["severity"], ALERT_KIND_ZH.get(a["kind"], a["kind"]), a["title"], a["topic"], a["region"],
                reasons, a["item_count"], beijing(a["created_at"]),
                beijing(a["respond_by"]), beijing(a["responded_at"]),
                clock_outcome(a["responded_at"], a["respond_by"], a["status"], now),
                beijing(a["conference_by"]), beijing(a["conference_at"]),
                clock_outcome(a["conference_at"], a["conference_by"], a["status"], now),
                ALERT_STATUS_ZH.get(a["status"], a["status"]), a["expert_name"], a["published_url"],
                beijing(a["published_at"]), effect_of(a), beijing(a["briefing_sent_at"]), beijing(a["closed_at"]),
                a["dismiss_reason"], a["item_id"])

    return csv_text(HEADER, map(line, rows)), len(rows)

