"""Leaders' reports: daily (日报), weekly summary (周报), monthly notice (月通报), and the quarterly
(季度报告) and annual (年度报告) reports: computed, then rendered.

`compute_weekly` / `compute_monthly` read the store into a `Report` of plain values (dataclasses
that turn into a JSON-ready dict and back: `Report.to_dict`, `Report.from_dict`). Renderers take
that result only, so the Markdown, HTML, PDF and the dashboard page print the same figures:

    report = compute_weekly(db, parse_week("2026-W47"))
    html = render_html(report)            # self-contained: CSS inline, charts as embedded PNG
    render_pdf(report, "weekly.pdf")      # the same HTML printed by headless Chromium

Each section degrades on its own. The workflow tables (alerts, assignments, clarifications,
verdicts, takedowns) belong to the response workflow; when they are missing the section says so
("工作流程模块尚未启用"), and when they are empty for the period it says that ("本周无预警数据").
No figure is ever filled in that the database does not hold.

Periods are China-time calendar periods (ISO weeks from Monday 00:00, months from the 1st,
quarters from 1 January, April, July and October, years from 1 January). A quarter or a year has the
monthly notice's sections (units ranked, risk points) with its months side by side: a unit is
judged month by month against the monthly minimum, as seed 002's 月通报 rule reads, not on a total.
"""

from __future__ import annotations

import base64
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from itertools import pairwise
from pathlib import Path

from . import press, readings, store, trainings
from .alerts import ALERT_KINDS, WorkflowError, load_rules
from .errors import ConfigError
from .language import scripts_text
from .ledger import ALERT_KIND_ZH
from .opinion import POLARITIES, opinion_line, opinion_shares
from .records import CST, UTC, beijing, hours_between, iso, parse_time
from .tips import CHANNELS as TIP_CHANNELS
from .uploads import MAX_MB, check_upload, csv_reader

FORMATS = ("html", "pdf", "docx", "md")
DOCX_MIME = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
# each format's MIME type, for downloads; in the order the 专报 offers them (PDF first, as it is mailed)
MIME_TYPES = {"pdf": "application/pdf", "docx": DOCX_MIME, "html": "text/html", "md": "text/markdown"}
DEFAULT_UNIT_MONTHLY_MINIMUM = 4   # seed 002: each county bureau / unit reports at least 4 items a month
REPEAT_PUBLISHER_MIN = 2           # confirmed false items that make an account a repeat publisher
TOP_RUMOURS = 10
QUIET_HOURS = 6.0  # a feed silent this long is a gap; callers pass settings.source_quiet_hours
OVERDUE_LIST_LIMIT = 20
RISK_MONTHS = 3                    # the monthly notice's risk points look back this many months (a
                                   # quarter or a year: its own months)
LONG_KINDS = ("monthly", "quarterly", "annual")  # the reports that rank units and list risk points
RISK_ROWS = 5                      # recurring topics / accounts / places listed in it
UNANSWERED_ROWS = 3                # topics the public talked about that the office's channels did not answer
TOP_TEXT_CHARS = 31                # the most spread post of the office's channels, quoted this far (… included)
RESPOND_HOURS = 5                  # seed 001: information released within 5 h
CONFERENCE_HOURS = 24              # seed 001: press conference within 24 h
SECTION_NUMERALS = "一二三四五六七八九十"
KINDS = ("daily", "weekly", "monthly", "quarterly", "annual")
CJK_FONT_FILE = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
CJK_FONT_FAMILY = "Noto Sans CJK SC"
CHROMIUM_TIMEOUT_SECONDS = 120


class ReportError(WorkflowError):
    """A report cannot be computed or rendered (bad period, missing PDF renderer, ...): English for
    the CLI, `key` and `params` name the dashboard's Chinese text, as for every WorkflowError."""


# --- words ------------------------------------------------------------------------------------
# Every string a reader sees, in one table per language (zh-CN is the product's language).

TEXT: dict[str, str] = {
    "daily.title": "健康舆情与谣言处置日报",
    "weekly.title": "健康舆情与谣言处置周报",
    "monthly.title": "健康舆情与谣言处置月通报",
    "quarterly.title": "健康舆情与谣言处置季度报告",
    "annual.title": "健康舆情与谣言处置年度报告",
    "period.daily": "{year} 年 {month} 月 {day} 日（{weekday}）",
    "period.weekly": "{label}（{start} 至 {end}）",
    "period.monthly": "{year} 年 {month} 月（{start} 至 {end}）",
    "period.quarterly": "{year} 年第{quarter}季度（{start} 至 {end}）",
    "period.annual": "{year} 年（{start} 至 {end}）",
    "this.daily": "当日", "this.weekly": "本周", "this.monthly": "本月", "this.quarterly": "本季度",
    "this.annual": "本年度",
    "prev.daily": "前一日", "prev.weekly": "上周", "prev.monthly": "上月", "prev.quarterly": "上季度",
    "prev.annual": "上年度",
    "generated": "生成时间：{time}（北京时间）",
    "scope.health": "统计范围：模型判定为健康相关的媒体条目（“采集条目”与“待评分”两数除外，为全部条目）；时间按北京时间计。",
    "scope.region": "地区：{region}（预警、专家处置与单位统计按预警所在地区筛选；媒体条目无地区字段，数量为全部地区）",
    "scope.platform": "平台：{platform}（平台筛选适用于媒体条目统计）",
    "scope.unfinished": "本期尚未结束，数据截至生成时间。",
    "workflow.missing": "工作流程模块尚未启用（数据库中没有{tables}表），本节暂无数据。",
    "workflow.columns": "工作流程数据表结构不兼容（{table} 缺少字段 {columns}），本节暂无数据。",
    "volume.title": "舆情总量与情感倾向",
    "volume.empty": "{this}无健康相关媒体条目。",
    "volume.collected": "采集条目 {items} 条（其中待评分 {unscored} 条），健康相关 {health} 条，其中疑似谣言 {flagged} 条。",
    "volume.change": "较{prev}：总量 {total}；{shares}。",
    "volume.change.none": "{prev}无已判定情感倾向的条目，无法比较。",
    "volume.chart": "每日健康相关条目（按情感倾向）",
    "volume.chart.hourly": "逐小时健康相关条目（按情感倾向，北京时间）",
    "volume.chart.weekly": "每周健康相关条目（按情感倾向；首尾两周只计本季度内的日子）",
    "volume.chart.monthly": "每月健康相关条目（按情感倾向）",
    "topics.title": "话题分布",
    "topics.empty": "{this}无已判定话题的健康相关条目。",
    "topics.none": "未分类",
    "topics.rule": "按《健康中国行动》15 项专项行动归类的健康相关条目；负面占比为各话题内的负面条目比例。",
    "topics.top": "{this}条目最多的话题：{topic}（{items} 条，占 {share}，负面占比 {negative}）。",
    "topics.rising": "较{prev}增长最多：{topic}（{change}）。",
    "topics.tags": "热点话题（健康相关条目中的微博 #话题#，按相关事件数；至少 {stories} 个事件、{accounts} 个账号）",
    "col.topic_items": "条目", "col.topic_share": "占比",
    "rumours.title": "传播最广的疑似谣言",
    "rumours.empty": "{this}无疑似谣言（谣言概率 ≥ {threshold}）。",
    "rumours.no_workflow": "处置状态：工作流程模块尚未启用，暂无状态。",
    "alerts.title": "预警与处置时限",
    "alerts.empty": "{this}无预警数据。",
    "alerts.summary": "{this}新增预警 {total} 起（其中经核实排除 {dismissed} 起）：{severities}。",
    "alerts.deadlines": "需处置 {actionable} 起：5 小时内发布信息 {n5} 起（{p5}），24 小时内发布 {n24} 起（{p24}）。",
    "alerts.conference": "一级预警需 24 小时内召开新闻发布会 {required} 起，按时召开 {on_time} 起。",
    "alerts.briefed": "其中 {n} 起已向领导报送舆情专报。",
    "alerts.kinds": "按来源：{kinds}。",
    "alerts.overdue": "超时清单",
    "alerts.overdue.none": "无超时预警。",
    "experts.title": "专家处置工作",
    "experts.empty": "{this}无专家指派与澄清发布。",
    "experts.trainings": "{this}举办专家培训 {n} 次（{titles}），参训专家 {experts} 位。",
    "experts.summary": "{this}指派 {assignments} 次（接受 {accepted}、谢绝 {declined}），发布澄清 {published} 篇；从预警到澄清发布的中位用时 {median}。",
    "experts.per_expert": "按专家",
    "experts.media": ("{this}媒体约请专家 {requests} 次（按活动时间）：已完成 {completed} 次，其中由不低于媒体级别的专家完成 "
                      "{level_fit} 次；取消 {cancelled} 次，待进行 {waiting} 次。"),
    "experts.per_unit": "按单位",
    "experts.effect": "辟谣效果：{summary}",
    "experts.effects": "辟谣效果（澄清稿发布前后同样时长内的新增条目与互动，至多各 24 小时；与同期未辟谣的预警事件在相同时点对照，不代表因果）",
    "publishers.title": "重复发布者与删除请求",
    "publishers.added": "{this}新增重复发布者（累计 ≥ {minimum} 条经核实谣言）{n} 个。",
    "publishers.none": "{this}无新增重复发布者。",
    "takedowns.summary": "{this}提出删除请求 {requested} 件：已删除 {removed} 件，平台拒绝 {refused} 件，待平台处理 {pending} 件。",
    "takedowns.none": "{this}无删除请求。",
    "tips.summary": "{this}登记公众举报线索 {total} 条（{channels}），涉及 {stories} 个内容，其中经研判确认谣言 {confirmed} 个。",
    "tips.none": "{this}未登记公众举报线索。",
    "readings.summary": ("{this}另有模型无法阅读的民族文字条目 {total} 条（{languages}）：已人工判读 {read} 条，"
                         "其中健康相关 {health} 条，已计入上述比例；尚待判读 {pending} 条，未计入。"),
    "gaps.summary": ("数据完整性：{this}有 {n} 段采集中断（数据源超过 {limit} 小时没有新条目），其间的条目数与各项比例可能偏低："
                     "{list}。"),
    "gaps.item": "{source} {start} 至 {end}（{duration}）",
    "gaps.item.open": "{source} {start} 起（{duration}，至统计截止仍无新条目）",
    "gaps.more": "等，共 {total} 段（此处列出最长的 {shown} 段）",
    "duration.minutes": "{n} 分钟",
    "duration.hours": "{n} 小时",
    "duration.days": "{n} 天",
    "tips.channel.12320": "12320 卫生健康热线",
    "tips.channel.12345": "12345 政务服务热线",
    "tips.channel.online": "网络举报",
    "tips.channel.other": "其他渠道",
    "watch.title": "关注词与关注账号",
    "watch.none": "未设置关注词或关注账号（监测员可在条目检索页设置，新条目命中即预警）。",
    "watch.unreadable": "预警规则文件无法读取（{reason}），本节暂无数据。",
    "watch.rule": "按条目检索的同样条件，统计全部采集条目（不限于健康相关、不分地区）。",
    "watch.top": "{this}命中最多：{value}（{items} 条，较{prev} {change}）。",
    "watch.quiet": "{this}所有关注词与关注账号均无命中。",
    "kind.keyword": "关注词", "kind.account": "关注账号", "change.new": "新出现", "change.same": "持平",
    "col.watched": "关注词 / 账号", "col.items": "命中条目", "col.prev_items": "{prev}", "col.change": "变化",
    "col.flagged": "疑似谣言", "col.opinion": "情感倾向（正 / 中 / 负）",
    "col.tag": "话题", "col.stories": "相关事件", "col.accounts": "账号", "col.negative_items": "负面",
    "col.prev_stories": "{prev}事件",
    "risk.title": "舆情风险点（近 {months} 个月）",
    "risk.rule": "{first} 至 {last}（{weeks} 周）中，在 {recurring} 周及以上出现疑似谣言的话题、账号与地区（广告与辟谣平台的发布不计，不分地区与平台）。",
    "risk.none": "近 {months} 个月没有持续出现疑似谣言的话题、账号或地区。",
    "risk.more": "在舆情风险点页查看全部话题、账号与地区",
    "risk.topics": "持续风险话题", "risk.accounts": "持续风险账号", "risk.regions": "持续风险地区",
    "col.topic": "话题", "col.negative_share": "负面占比", "col.weeks": "出现周数",
    "model.title": "模型运行情况",
    "model.empty": "{this}无人工核实记录。",
    "model.summary": "{this}人工核实 {verdicts} 条；其中模型预警条目 {flagged} 条：确认为谣言 {confirmed} 条，排除 {dismissed} 条，无法核实 {unverifiable} 条，预警准确率 {precision}。",
    "model.missed": "模型未预警但经核实为谣言 {missed} 条。",
    "units.title": "各单位处置与信息报送排名",
    "section.numbered": "{n}、{title}",
    "units.empty": "尚未登记单位，且{this}无专家所属单位的处置记录。",
    "units.rule": ("报送要求：每单位每月报送信息不少于 {minimum} 条（依据《晋城市卫生健康委员会宣传工作实施方案》月通报制度；"
                   "单位通讯员报送的信息与本单位专家发布的澄清合计，撤回的不计）；未达标单位以“未达标”标出。"),
    "units.below": "未达标单位 {n} 个：{names}。",
    "units.below.none": "全部单位达到每月报送要求。",
    "units.months": "{this}已结束的 {n} 个月（{first} 至 {last}）逐月对照最低要求；“达标月数”为合计报送达到要求的月数，任一月未达标即标为“未达标”。",
    "units.months.none": "{this}尚无已结束且有采集数据的月份，暂不判定达标情况。",
    "units.months.since": "平台自 {since} 起才有采集数据，此前的月份不判定。",
    "units.below.months": "有月份未达标的单位 {n} 个：{names}。",
    "alerts.referrals": "{this}交办属地单位核实处置 {n} 件：按时反馈 {on_time} 件，超时反馈 {late} 件，逾期未反馈 {missing} 件。",
    "alerts.referrals.lagging": "超时或逾期未反馈的单位：{names}。",
    "press.held": "{this}召开新闻发布会 {n} 场（其中回应预警事件 {alerts} 场）",
    "press.speakers": "，新闻发言人：{names}",
    "press.short": "每月至少召开 {minimum} 次新闻发布会：{months} 未召开。",
    "press.met": "每月至少召开 {minimum} 次新闻发布会：判定的 {n} 个月均已召开。",
    "press.month.met": "达到每月至少召开 {minimum} 次新闻发布会的要求。",
    "press.month.short": "未达到每月至少召开 {minimum} 次新闻发布会的要求。",
    "days.held": "{name}（卫生健康纪念日，{when}，{topic}）：{window}该话题健康条目 {items} 条（其中疑似谣言 {flagged} 条），{change}。",
    "days.held.quiet": "{name}（卫生健康纪念日，{when}，{topic}）：{window}没有该话题的健康条目。",
    "days.change": "日均较此前 {weeks} 周 {sign}{pct}%",
    "days.change.none": "此前 {weeks} 周没有该话题条目",
    "days.held.none": "本月没有列入的卫生健康纪念日。",
    "days.next": "下月卫生健康纪念日：{days}。请提前准备科普与辟谣内容。",
    "days.next.none": "下月没有列入的卫生健康纪念日。",
    "assess.change": "日均较此前 {days} 天 {change}", "assess.change.none": "此前 {days} 天没有相关条目",
    "assess.after": ("事前研判：{day} {title}（研判风险{level}）：其后 {days} 天相关条目 {items} 条（{change}），"
                     "疑似谣言 {flagged} 条（此前 {before_flagged} 条），负面占比 {negative}（此前 {before_negative}）。"),
    "assess.ahead": "事前研判：{day} {title}（研判风险{level}）：计划日期未到或为今日，事后情况下月通报。",
    "assess.next.weekly": "下周做过事前研判的事项：{items}。请发布前后加强监测。",
    "days.next.weekly": "下周卫生健康纪念日：{days}。请提前准备科普与辟谣内容。",
    "units.days": "下月卫生健康纪念日：{days}。欢迎结合纪念日报送健康科普信息。",
    "press.media.held": "{this}组织媒体活动 {n} 场。",
    "press.media.month.met": "本月组织媒体活动 {n} 场，达到每月至少组织 {minimum} 场的要求。",
    "press.media.month.short": "本月组织媒体活动 {n} 场，未达到每月至少组织 {minimum} 场的要求。",
    "press.media.short": "每月至少组织 {minimum} 场媒体活动：{months} 未组织。",
    "press.media.met": "每月至少组织 {minimum} 场媒体活动：判定的 {n} 个月均已组织。",
    "press.upper.held": "{this}参加上级卫生健康委组织的新闻发布活动 {n} 次。",
    "own.published": ("政务新媒体：{this} {channels} 个已登记账号发布 {posts} 条（健康相关 {health} 条），转发、评论、点赞合计 "
                      "{engagement} 次，篇均 {per_post} 次；{prev}发布 {prev_posts} 条、互动 {prev_engagement} 次。"),
    "own.platforms": "其中{platforms}。",
    "own.top": "传播最广的作品：{name} {day}“{text}”（互动 {engagement} 次），可推广。",
    "own.unanswered": "公众关注而本单位账号{this}没有发布的话题：{topics}。可组织专家撰写科普或解读。",
    "own.unanswered.topic": "{topic}（健康相关条目 {items} 条，疑似谣言 {flagged} 条）",
    "press.training": "{this}开展新闻发布与媒体素养业务培训 {n} 次。",
    "press.upper.met": "本年参加上级卫生健康委组织的新闻发布活动 {n} 次，达到每年至少参加 {minimum} 次的要求。",
    "press.upper.short": "本年参加上级卫生健康委组织的新闻发布活动 {n} 次，未达到每年至少参加 {minimum} 次的要求。",
    "press.upper.running": "本年尚未参加上级卫生健康委组织的新闻发布活动（每年至少 {minimum} 次）。",
    "units.unassigned": "另有 {n} 起已处置预警未指派专家，未计入单位。",
    "units.trainings": "{this}举办通讯员培训 {n} 次：{list}。",
    "units.training": "{month} 月 {day} 日《{title}》（参训单位 {units} 个{people}）",
    "units.training.people": "、{n} 人次",
    "units.trainings.none": "{this}未举办通讯员培训。",
    "units.halves": "通讯员培训原则上每半年开展一次：{halves}。",
    "units.half": "{year} 年{half}举办 {n} 次（{verdict}）",
    "units.half.1": "上半年", "units.half.2": "下半年",
    "units.half.met": "达到要求", "units.half.short": "未达到要求", "units.half.running": "该半年尚未结束",
    "units.half.before": "平台尚无该半年的数据，不判定",
    "units.untrained": "{this}未参加通讯员培训的单位 {n} 个：{names}。",
    "units.own": ("本单位（{unit}）本月合计 {counted} 条（报送信息 {reported} 条，其中采用 {adopted} 条；本单位专家发布澄清 "
                  "{clarifications} 条），每月要求 {minimum} 条，{flag}；在 {total} 个单位中排第 {rank} 名。"),
    "status.clarified": "已辟谣", "status.in_progress": "处置中", "status.overdue": "已超时",
    "status.no_alert": "未预警", "status.dismissed": "已排除", "status.unknown": "—",
    "col.rank": "排名", "col.content": "内容", "col.platform": "平台", "col.account": "账号",
    "col.spread": "传播量", "col.copies": "同源条数", "col.probability": "谣言概率", "col.status": "状态",
    "col.link": "链接", "col.severity": "级别", "col.alert": "预警", "col.created": "预警时间",
    "col.respond_by": "应发布时间", "col.responded": "实际发布", "col.late": "超时",
    "col.expert": "专家", "col.unit": "单位", "col.assignments": "指派", "col.declined": "谢绝",
    "col.published": "发布澄清", "col.median": "中位用时", "col.clarification": "澄清稿",
    "col.published_at": "发布时间", "col.effect_items": "新增条目（前→后）", "col.effect_reactions": "新增互动（前→后）",
    "col.effect": "效果", "col.effect_window": "前后各", "col.kind": "类型", "col.region": "地区",
    "col.handled": "处置预警", "col.on_time": "按时处置", "col.on_time_rate": "按时率",
    "col.minimum": "要求", "col.reported": "报送", "col.adopted": "采用", "col.unit_published": "澄清",
    "col.counted": "合计", "col.flag": "达标情况", "col.confirmed": "经核实谣言", "col.reach": "传播量",
    "col.day": "日期", "col.total": "合计", "col.unscored": "待评分", "col.month": "月份",
    "col.months_met": "达标月数", "col.short_months": "未达标月份",
    "flag.below": "未达标", "flag.ok": "达标", "flag.unjudged": "未判定",
    "not_released": "未发布", "hours": "{h} 小时", "none": "—",
    "polarity.neutral": "中性", "polarity.positive": "正面", "polarity.negative": "负面",
    "footer": "本报告由健康谣言监测平台根据数据库记录自动生成；各项数字均可在平台中复核。",
}


def tr(key: str, **kwargs) -> str:
    return TEXT[key].format(**kwargs) if kwargs else TEXT[key]


# --- periods ----------------------------------------------------------------------------------

_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-W(\d{1,2})$")
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^(\d{4})$")


@dataclass(frozen=True)
class Period:
    """A China-time calendar period: `start`/`end` are UTC ISO bounds [start, end)."""

    kind: str          # daily / weekly / monthly / quarterly / annual
    label: str         # 2026-11-23 / 2026-W47 / 2026-11 / 2026-Q4 / 2026
    first_day: str     # China dates, inclusive
    last_day: str
    start: str
    end: str

    @property
    def days(self) -> list[str]:
        first = date.fromisoformat(self.first_day)
        n = (date.fromisoformat(self.last_day) - first).days + 1
        return [(first + timedelta(days=i)).isoformat() for i in range(n)]

    @property
    def months(self) -> list[str]:
        """The calendar months the period covers, "2026-10" …, in order."""
        first, last = date.fromisoformat(self.first_day), date.fromisoformat(self.last_day)
        return [f"{y}-{m:02d}" for y in range(first.year, last.year + 1) for m in range(1, 13)
                if (first.year, first.month) <= (y, m) <= (last.year, last.month)]

    def previous(self) -> "Period":
        first = date.fromisoformat(self.first_day)
        if self.kind == "daily":
            return parse_day((first - timedelta(days=1)).isoformat())
        if self.kind == "weekly":
            y, w, _ = (first - timedelta(days=7)).isocalendar()
            return parse_week(f"{y}-W{w:02d}")
        prev = first - timedelta(days=1)
        if self.kind == "quarterly":
            return parse_quarter(f"{prev.year}-Q{(prev.month - 1) // 3 + 1}")
        if self.kind == "annual":
            return parse_year(str(prev.year))
        return parse_month(f"{prev.year}-{prev.month:02d}")


def _period(kind: str, label: str, first: date, last: date) -> Period:
    start = datetime(first.year, first.month, first.day, tzinfo=CST)
    end = datetime(last.year, last.month, last.day, tzinfo=CST) + timedelta(days=1)
    return Period(kind, label, first.isoformat(), last.isoformat(), iso(start), iso(end))


def parse_day(text: str) -> Period:
    """`2026-11-23` -> that China-time day (the daily report's period)."""
    m = _DAY.match(str(text).strip())
    try:
        day = date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None
    except ValueError:
        day = None
    if day is None:
        raise ReportError(f"day {text!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-23", "report_bad_day",
                          value=text)
    return _period("daily", day.isoformat(), day, day)


def weekday_zh(day: date) -> str:
    """星期一 … 星期日."""
    return "星期" + "一二三四五六日"[day.weekday()]


def _bad_kind(kind) -> ReportError:
    return ReportError(f"unknown report kind {kind!r}; expected {', '.join(KINDS)}", "report_bad_kind", value=kind)


def parse_period(kind: str, label: str) -> Period:
    """A period of a report kind from its label (2026-11-23, 2026-W47, 2026-11, 2026-Q4 or 2026)."""
    parsers = {"daily": parse_day, "weekly": parse_week, "monthly": parse_month, "quarterly": parse_quarter,
               "annual": parse_year}
    if kind not in parsers:
        raise _bad_kind(kind)
    return parsers[kind](label)


def parse_week(text: str) -> Period:
    """`2026-W47` -> the ISO week Monday 16 Nov to Sunday 22 Nov 2026 (China time)."""
    m = _WEEK.match(str(text).strip())
    if not m:
        raise ReportError(f"week {text!r} is not an ISO week: use YYYY-Www, e.g. 2026-W47", "report_bad_week",
                          value=text)
    year, week = int(m.group(1)), int(m.group(2))
    try:
        monday = date.fromisocalendar(year, week, 1)
    except ValueError:
        weeks = date(year, 12, 28).isocalendar()[1]
        raise ReportError(f"week {text!r} does not exist: {year} has weeks 1 to {weeks}", "report_no_week",
                          value=text, year=year, weeks=weeks) from None
    return _period("weekly", f"{year}-W{week:02d}", monday, monday + timedelta(days=6))


def parse_month(text: str) -> Period:
    """`2026-11` -> 1 to 30 November 2026 (China time)."""
    m = _MONTH.match(str(text).strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise ReportError(f"month {text!r} is not a month: use YYYY-MM, e.g. 2026-11", "report_bad_month",
                          value=text)
    year, month = int(m.group(1)), int(m.group(2))
    first = date(year, month, 1)
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return _period("monthly", f"{year}-{month:02d}", first, nxt - timedelta(days=1))


def parse_quarter(text: str) -> Period:
    """`2026-Q4` -> 1 October to 31 December 2026 (China time)."""
    m = _QUARTER.match(str(text).strip())
    if not m:
        raise ReportError(f"quarter {text!r} is not a quarter: use YYYY-Qn, e.g. 2026-Q4", "report_bad_quarter",
                          value=text)
    year, q = int(m.group(1)), int(m.group(2))
    first = date(year, 3 * q - 2, 1)
    nxt = date(year + (q == 4), 3 * q % 12 + 1, 1)
    return _period("quarterly", f"{year}-Q{q}", first, nxt - timedelta(days=1))


def parse_year(text: str) -> Period:
    """`2026` -> 1 January to 31 December 2026 (China time)."""
    m = _YEAR.match(str(text).strip())
    if not m or int(m.group(1)) < 1900:
        raise ReportError(f"year {text!r} is not a year: use YYYY, e.g. 2026", "report_bad_year", value=text)
    year = int(m.group(1))
    return _period("annual", str(year), date(year, 1, 1), date(year, 12, 31))


def _containing(kind: str, day: date) -> Period:
    """The period of `kind` that holds the China-time `day`."""
    if kind == "daily":
        return parse_day(day.isoformat())
    if kind == "weekly":
        y, w, _ = day.isocalendar()
        return parse_week(f"{y}-W{w:02d}")
    if kind == "monthly":
        return parse_month(f"{day.year}-{day.month:02d}")
    if kind == "quarterly":
        return parse_quarter(f"{day.year}-Q{(day.month - 1) // 3 + 1}")
    if kind == "annual":
        return parse_year(str(day.year))
    raise _bad_kind(kind)


def last_complete(kind: str, now: datetime | None = None) -> Period:
    """The last whole day, week, month, quarter or year before `now`, in China time: what a cron job
    reports on."""
    return current_period(kind, now).previous()


def current_period(kind: str, now: datetime | None = None) -> Period:
    """The period of `kind` under way at `now` (China time)."""
    return _containing(kind, (now or datetime.now(UTC)).astimezone(CST).date())


# --- the computed result --------------------------------------------------------------------

@dataclass
class Section:
    """One part of a report. `available=False` means the data behind it does not exist (yet);
    `message` then says why. `data` holds only JSON values (str, int, float, bool, None, list, dict)."""

    key: str
    title: str
    available: bool
    message: str | None = None
    data: dict = field(default_factory=dict)


@dataclass
class Report:
    kind: str
    title: str
    period: Period
    previous: Period
    filters: dict
    generated_at: str
    scope: list[str]
    sections: list[Section]

    def section(self, key: str) -> Section:
        for s in self.sections:
            if s.key == key:
                return s
        raise KeyError(key)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> "Report":
        return cls(kind=d["kind"], title=d["title"], period=Period(**d["period"]),
                   previous=Period(**d["previous"]), filters=dict(d["filters"]),
                   generated_at=d["generated_at"], scope=list(d["scope"]),
                   sections=[Section(**s) for s in d["sections"]])

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)

    @classmethod
    def from_json(cls, text: str) -> "Report":
        return cls.from_dict(json.loads(text))


def percent(n: int, d: int) -> float | None:
    """n/d as a percentage rounded half up to one decimal (as the reports print), None when d is 0."""
    if not d:
        return None
    return float((Decimal(n * 100) / Decimal(d)).quantize(Decimal("0.1"), ROUND_HALF_UP))


def _median_hours(values: list[float]) -> float | None:
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def china_time(value: str | None, fmt: str = "%m-%d %H:%M") -> str | None:
    return beijing(value, fmt)


def safe_url(url) -> str | None:
    """Only http(s) links are rendered as links (a scraped `javascript:` url stays text)."""
    return url if isinstance(url, str) and re.match(r"^https?://", url, re.I) else None


WORKFLOW_NEEDS: dict[str, tuple[str, ...]] = {
    "alerts": ("id", "severity", "cluster_id", "item_id", "status", "created_at", "respond_by",
               "conference_by", "responded_at", "conference_at", "assigned_expert", "region", "title"),
    "experts": ("id", "name", "institution", "region"),
    "assignments": ("id", "alert_id", "expert_id", "status", "assigned_at"),
    "clarifications": ("id", "alert_id", "expert_id", "status", "published_at", "published_url"),
    "verdicts": ("item_id", "verdict", "at"),
    "takedowns": ("id", "status", "requested_at"),
}


def _workflow_gap(db, *tables: str) -> str | None:
    """Why the workflow data behind a section cannot be read, or None when it can."""
    missing = [t for t in tables if not store.has_tables(db, t)]
    if missing:
        return tr("workflow.missing", tables="、".join(missing))
    for t in tables:
        cols = store.missing_columns(db, t, WORKFLOW_NEEDS.get(t, ()))
        if cols:
            return tr("workflow.columns", table=t, columns="、".join(cols))
    return None


# --- sections -------------------------------------------------------------------------------

def _hourly(db, period: Period, platforms) -> list[dict] | None:
    """A day's health items hour by hour (China time) by polarity, for the daily report's chart;
    None for a week or a month."""
    if period.kind != "daily":
        return None
    by_hour = {h: {"hour": h, "neutral": 0, "positive": 0, "negative": 0, "unscored": 0} for h in range(24)}
    for r in store.hourly_polarity(db, period.start, period.end, platforms=platforms, health_only=True):
        by_hour[r["hour"]][r["polarity"] if r["polarity"] in POLARITIES else "unscored"] += r["n"]
    return list(by_hour.values())


def _volume(db, period: Period, previous: Period, platforms, threshold: float, quiet_hours: float,
            now_iso: str) -> Section:
    this = tr(f"this.{period.kind}")
    counts = store.polarity_counts(db, period.start, period.end, platforms=platforms, health_only=True)
    prev_counts = store.polarity_counts(db, previous.start, previous.end, platforms=platforms, health_only=True)
    summary = store.summary_counts(db, period.start, period.end, threshold, platforms=platforms)
    # Flagged items are counted within the report's scope (health-related), like every other figure.
    flagged = summary["flagged_health"]
    scored = {p: counts[p] for p in POLARITIES}
    prev_scored = {p: prev_counts[p] for p in POLARITIES}
    total, prev_total = sum(scored.values()), sum(prev_scored.values())
    shares = {s.polarity: float(s.percent) for s in opinion_shares(scored)}
    prev_shares = {s.polarity: float(s.percent) for s in opinion_shares(prev_scored)}

    by_day = {d: {"day": d, "neutral": 0, "positive": 0, "negative": 0, "unscored": 0} for d in period.days}
    for r in store.daily_polarity(db, period.start, period.end, platforms=platforms, health_only=True):
        key = r["polarity"] if r["polarity"] in POLARITIES else "unscored"
        if r["day"] in by_day:
            by_day[r["day"]][key] += r["n"]

    change = None
    if prev_total:
        change = {"total": total - prev_total, "total_percent": percent(total - prev_total, prev_total),
                  "shares_pp": {p: round(shares.get(p, 0.0) - prev_shares.get(p, 0.0), 1) for p in POLARITIES}}
    data = {
        "items": summary["items"], "health_related": summary["health_related"], "flagged": flagged,
        "unscored": summary["unscored"], "counts": scored, "total": total, "shares": shares,
        "opinion_line": opinion_line(scored), "opinion_line_long": opinion_line(scored, with_counts=True),
        "previous": {"label": previous.label, "counts": prev_scored, "total": prev_total, "shares": prev_shares,
                     "opinion_line": opinion_line(prev_scored)},
        "change": change, "daily": list(by_day.values()), "hourly": _hourly(db, period, platforms),
        "tips": _tips(db, period, platforms),
        "readings": (readings.counts(db, period.start, period.end, platforms=platforms)
                     if store.has_tables(db, "human_readings") else None),
        "gaps": source_gaps(db, period, platforms, quiet_hours, now_iso), "quiet_hours": quiet_hours,
    }
    if period.kind == "weekly":
        data["health_days"] = _next_week_days(db, period)
    return Section("volume", tr("volume.title"), True,
                   None if total or summary["items"] else tr("volume.empty", this=this), data)


def _next_week_days(db, period: Period) -> dict:
    """The 卫生健康纪念日 (rumourwatch.healthdays) that begin in the 7 days after a week, and the kept
    事前研判 (rumourwatch.assessment) planned for them, for the weekly summary: a day's publicity, a
    release's watch, is prepared the week before. Reads only the office's days and assessments."""
    from . import assessment, healthdays

    after = date.fromisoformat(period.last_day) + timedelta(days=1)
    last = after + timedelta(days=6)
    return {"next": [{k: d[k] for k in ("name", "topic", "first", "last")}
                     for d in healthdays.starting_between(db, after, last)],
            "assessed": [{k: r[k] for k in ("title", "event_day", "level")}
                         for r in assessment.kept_between(db, after, last)]}


def _topics(db, period: Period, previous: Period, platforms, threshold: float) -> Section:
    """Health items per Healthy China topic (DOMAIN §10), with their negative share, the flagged
    ones and the change against the previous period: which areas the period's opinion was about."""
    this = tr(f"this.{period.kind}")
    before = {r["topic"]: r["items"] for r in store.topic_counts(db, previous.start, previous.end, threshold,
                                                                  rumour_candidates=False, platforms=platforms)}
    rows = store.topic_counts(db, period.start, period.end, threshold, rumour_candidates=False, platforms=platforms)
    total = sum(r["items"] for r in rows)
    out = sorted(({"topic": r["topic"] or tr("topics.none"), "items": r["items"], "share": percent(r["items"], total),
                   "negative": r["negative"], "negative_share": percent(r["negative"], r["items"]),
                   "flagged": r["flagged"], "previous": before.get(r["topic"], 0),
                   "change": percent(r["items"] - before.get(r["topic"], 0), before.get(r["topic"], 0))}
                  for r in rows), key=lambda r: (-r["items"], r["topic"]))
    return Section("topics", tr("topics.title"), True, None if rows else tr("topics.empty", this=this),
                   {"rows": out, "total": total, "tags": _hot_tags(db, period, platforms, threshold) if rows else []})


HOT_TAGS = 10


def _hot_tags(db, period: Period, platforms, threshold: float) -> list[dict]:
    """The period's health hashtags with the most stories, each against the period before
    (rumourwatch.trending, as the live page counts them over hours)."""
    from .trending import rising_tags

    hours = hours_between(period.start, period.end)
    return [{k: r[k] for k in ("tag", "stories", "accounts", "negative", "flagged", "before_stories", "status",
                               "growth")}
            for r in rising_tags(db, parse_time(period.end), threshold, hours=hours, baseline_hours=hours,
                                 platforms=platforms, limit=HOT_TAGS, rising_first=False)]


# A feed with an item in the two days before a period was already running when it began: a silence
# from then on counts; a feed whose first item falls inside the period started then.
GAP_LOOKBACK = timedelta(days=2)
GAPS_LISTED = 5


def source_gaps(db, period: Period, platforms, quiet_hours: float, now_iso: str) -> list[dict]:
    """The stretches of the period (up to now) in which a feed published no item for at least
    `quiet_hours` (the live pages' source_quiet_hours): a scraper blocked or a worker stopped, which
    would otherwise read as a quiet week. Read by whole hours of publication (store.source_hours): a
    stretch runs from the end of the last hour with an item to the start of the next one. Items
    filled in after an outage carry their own times, so a silence made good later is no gap. Tips,
    and files read once (`rumourwatch ingest`), are not feeds. Each: {"source", "start", "end", "hours", "open" (still silent at the end of
    the period or now)}, longest first."""
    start, end = parse_time(period.start), parse_time(min(period.end, now_iso))
    limit = timedelta(hours=quiet_hours)
    by_source: dict[str, list[datetime]] = {}
    imported = store.one_off_sources(db) if not store.missing_columns(db, "checkpoints", ["one_off"]) else set()
    for source, hour in store.report_source_hours(db, iso(start - GAP_LOOKBACK), iso(end), platforms):
        began = parse_time(hour + ":00:00Z")
        if began < end and source not in imported:
            by_source.setdefault(source, []).append(began)
    gaps = []
    for source, hours in by_source.items():
        # silent from the end of one hour with items to the start of the next, then to the end
        for a, b, open_end in [*((a, b, False) for a, b in pairwise(hours)), (hours[-1], end, True)]:
            a = max(a + timedelta(hours=1), start)
            if b - a >= limit:
                gaps.append({"source": source, "start": iso(a), "end": iso(b),
                             "hours": (b - a).total_seconds() / 3600, "open": open_end})
    return sorted(gaps, key=lambda g: (-g["hours"], g["source"], g["start"]))


def _tips(db, period: Period, platforms) -> dict | None:
    """The public's tips of the period (rumourwatch.tips): how many by channel, how many stories they
    named, and how many of those stories a monitor has confirmed false."""
    if _workflow_gap(db, "tips", "verdicts"):
        return None  # a store from before tips (or without the workflow): no line rather than a false 0
    rows = store.report_tips(db, period.start, period.end, platforms)
    by_channel: dict[str, int] = {}
    verdicts: dict[int, str | None] = {}
    for r in rows:
        by_channel[r["channel"]] = by_channel.get(r["channel"], 0) + 1
        verdicts[r["story"]] = r["verdict"]
    return {"total": len(rows), "by_channel": dict(sorted(by_channel.items(), key=lambda kv: -kv[1])),
            "stories": len(verdicts), "confirmed": sum(v == "rumour" for v in verdicts.values())}


def _rumour_status(alert: dict | None, now: str) -> str:
    if alert is None:
        return "no_alert"
    if alert.get("clarified_at") or alert.get("status") == "published":
        return "clarified"
    if alert.get("status") == "dismissed":
        return "dismissed"
    if alert.get("respond_by") and not alert.get("responded_at") and alert["respond_by"] < now:
        return "overdue"
    return "in_progress"


def _rumours(db, period: Period, platforms, threshold: float, now: str, limit: int) -> Section:
    rows = store.report_top_rumours(db, period.start, period.end, threshold, limit, platforms=platforms)
    gap = _workflow_gap(db, "alerts", "clarifications")
    alerts_by_cluster, alerts_by_item = {}, {}
    if gap is None and rows:
        for a in store.report_alert_status(db, [r["cluster_id"] for r in rows if r["cluster_id"] is not None],
                                           [r["item_id"] for r in rows]):
            if a["cluster_id"] is not None:
                alerts_by_cluster.setdefault(a["cluster_id"], a)
            if a["item_id"] is not None:
                alerts_by_item.setdefault(a["item_id"], a)
    out = []
    for rank, r in enumerate(rows, 1):
        alert = alerts_by_cluster.get(r["cluster_id"]) or alerts_by_item.get(r["item_id"])
        status = "unknown" if gap else _rumour_status(alert, now)
        out.append({
            "rank": rank, "item_id": r["item_id"], "cluster_id": r["cluster_id"], "platform": r["platform"],
            "account": r["account"], "url": safe_url(r["url"]), "text": r["title"] or r["text"],
            "first_seen": china_time(r["first_at"]), "copies": r["copies"], "reposts": r["reposts"] or 0,
            "comments": r["comments"] or 0, "spread": r["spread"] or 0,
            "rumour_probability": round(r["max_probability"], 3),
            "status": status, "status_label": tr(f"status.{status}"),
            "alert_id": alert["id"] if alert else None,
            "clarification_url": safe_url(alert.get("clarification_url")) if alert else None,
        })
    this = tr(f"this.{period.kind}")
    message = None if out else tr("rumours.empty", this=this, threshold=f"{threshold:.0%}")
    return Section("rumours", tr("rumours.title"), True, message,
                   {"rows": out, "threshold": threshold, "workflow": gap is None,
                    "workflow_note": tr("rumours.no_workflow") if gap else None})


def _released_within(alerts: list[dict]) -> tuple[int, int]:
    """How many of the alerts had their information released within 5 hours and within 24 (seed 001)."""
    hours = [h for a in alerts if (h := hours_between(a["created_at"], a["responded_at"])) is not None]
    return sum(h <= RESPOND_HOURS for h in hours), sum(h <= CONFERENCE_HOURS for h in hours)


def period_figures(db, period: Period, threshold: float = 0.5) -> dict:
    """A period's headline figures counted as its report counts them (volume, alerts and experts
    sections: health items and their opinion shares, flagged health items, alerts by severity, the
    share released within 5 hours, clarifications published), and nothing else: the cheap part of a
    report, for trends over many periods (rumourwatch.overview)."""
    counts = store.polarity_counts(db, period.start, period.end, health_only=True)  # from the daily counts
    scored = {p: counts[p] for p in POLARITIES}
    rows = store.report_alerts(db, period.start, period.end)
    actionable = [a for a in rows if a["status"] != "dismissed"]
    n5, _ = _released_within(actionable)
    severities = Counter(a["severity"] for a in rows)
    return {"label": period.label, "first_day": period.first_day, "last_day": period.last_day,
            "health_related": sum(counts.values()), "scored": sum(scored.values()), "counts": scored,
            "shares": {s.polarity: float(s.percent) for s in opinion_shares(scored)},
            "opinion_line": opinion_line(scored), "flagged": store.flagged_health(db, period.start, period.end, threshold),
            "alerts": len(rows), "by_severity": {sev: severities[sev] for sev in ("一级", "二级", "三级")},
            "actionable": len(actionable), "within_5h": n5, "share_5h": percent(n5, len(actionable)),
            "published": len(store.report_clarifications(db, period.start, period.end))}


def _judged_months(db, period: Period, now_iso: str) -> tuple[str | None, list[str] | None]:
    """(the first month the store holds an item in, the months a quarter or a year judges a monthly
    rule in: those that have ended, from that first month — nobody is short in the months before the
    platform collected anything). A month's notice judges its own month, ended or not: (None, None)."""
    if period.kind == "monthly":
        return None, None
    first_item = store.earliest_published(db)
    since = beijing(first_item, "%Y-%m") if first_item else None
    return since, [m for m in period.months if parse_month(m).end <= now_iso and since and m >= since]


def _own_media(db, period: Period, threshold: float, platforms: list[str] | None) -> dict | None:
    """The period's publishing on the office's own channels (rumourwatch.ownmedia) against the
    period before, its most spread post, and the topics the public talked about that they did not
    answer; None for a day (too short to judge a channel) or without channels."""
    from . import ownmedia

    if period.kind == "daily" or not store.has_tables(db, "own_accounts"):
        return None
    found = ownmedia.figures(db, period.start, period.end, threshold, previous_start=period.previous().start,
                             platforms=platforms)
    if not found["accounts"]:
        return None
    by_topic = {r["topic"]: r for r in found["topics"]}
    platforms: dict[str, int] = {}
    for a in found["accounts"]:
        platforms[a["platform"]] = platforms.get(a["platform"], 0) + a["posts"]
    return {"channels": len(found["accounts"]), "total": found["total"], "previous": found["previous"],
            "platforms": platforms,
            "top": [{k: r[k] for k in ("name", "platform", "published_at", "title", "text", "engagement", "url")}
                    for r in found["top"][:1]],
            "unanswered": [{k: by_topic[t][k] for k in ("topic", "items", "flagged")}
                           for t in found["unanswered"][:UNANSWERED_ROWS]]}


def _press(db, period: Period, now: str) -> dict | None:
    """The period's press conferences and media activities (rumourwatch.press), judged against their
    monthly minimums in the months judged (`_judged_months`, as the units are); in a year, its part
    in the higher commission's press events: "upper"'s "state" is "ended" (a year that ended since
    the store's first item: judged), "running" (this year) or None. None without the register."""
    if not store.has_tables(db, "press_conferences"):
        return None
    since, judged = _judged_months(db, period, now)
    months = period.months if judged is None else judged
    found = press.summary(db, period.start, period.end, months)
    state = None
    if period.kind == "annual" and since and since <= period.months[-1]:
        state = "ended" if period.end <= now else "running"
    return {**found, "upper": {**found["upper"], "state": state}, "judged": months}


def _alerts(db, period: Period, region, now: str, threshold: float, platforms: list[str] | None) -> Section:
    gap = _workflow_gap(db, "alerts", "experts")
    if gap:
        return Section("alerts", tr("alerts.title"), False, gap)
    rows = store.report_alerts(db, period.start, period.end, region)
    own_media = _own_media(db, period, threshold, platforms)
    if not rows:
        return Section("alerts", tr("alerts.title"), True, tr("alerts.empty", this=tr(f"this.{period.kind}")),
                       {"total": 0, "press": _press(db, period, now), "own_media": own_media})
    by_severity = {s: 0 for s in ("一级", "二级", "三级")}
    for a in rows:
        by_severity[a["severity"]] = by_severity.get(a["severity"], 0) + 1
    actionable = [a for a in rows if a["status"] != "dismissed"]
    n5, n24 = _released_within(actionable)
    needs_conf = [a for a in actionable if a["conference_by"]]
    conf_on_time = sum(1 for a in needs_conf if a["conference_at"] and a["conference_at"] <= a["conference_by"])
    overdue = []
    for a in actionable:
        late_release = (a["responded_at"] or now) > a["respond_by"]
        late_conf = bool(a["conference_by"]) and (a["conference_at"] or now) > a["conference_by"]
        if not (late_release or late_conf):
            continue
        late_hours = hours_between(a["respond_by"], a["responded_at"] or now) if late_release else \
            hours_between(a["conference_by"], a["conference_at"] or now)
        overdue.append({
            "alert_id": a["id"], "severity": a["severity"], "title": a["title"], "region": a["region"],
            "created": china_time(a["created_at"]), "respond_by": china_time(a["respond_by"]),
            "responded": china_time(a["responded_at"]), "conference_missed": late_conf,
            "late_hours": round(late_hours, 1) if late_hours is not None else None,
            "expert": a["expert_name"], "unit": a["expert_institution"], "url": safe_url(a["url"]),
            "status": a["status"]})
    overdue.sort(key=lambda o: -(o["late_hours"] or 0))
    data = {"total": len(rows), "dismissed": len(rows) - len(actionable), "by_severity": by_severity,
            "actionable": len(actionable), "within_5h": n5, "within_24h": n24,
            "share_5h": percent(n5, len(actionable)), "share_24h": percent(n24, len(actionable)),
            "conference_required": len(needs_conf), "conference_on_time": conf_on_time,
            "briefed": sum(1 for a in rows if a["briefed"]), "kinds": _kinds(rows),
            "overdue_total": len(overdue), "overdue": overdue[:OVERDUE_LIST_LIMIT],
            "referrals": _referrals(db, period, region, now), "press": _press(db, period, now),
            "own_media": own_media}
    return Section("alerts", tr("alerts.title"), True, None, data)


def _effects(db, period: Period, region, now: str) -> list[dict]:
    """辟谣效果 of the period's clarifications (rumourwatch.effect), as the report prints them."""
    from .effect import period_effects, status_text

    return [{"title": e["title"], "expert": e["expert"], "published_at": e["published_at"], "status": e["status"],
             "window_hours": e["window_hours"], "before": e["before"], "after": e["after"], "change": e["change"],
             "compared": e["compared"], "reference": e["reference"], "since_items": e["since_items"],
             "text": status_text(e)} for e in period_effects(db, period.start, period.end, parse_time(now), region)]


def _experts(db, period: Period, region, now: str) -> Section:
    gap = _workflow_gap(db, "alerts", "experts", "assignments", "clarifications")
    if gap:
        return Section("experts", tr("experts.title"), False, gap)
    assignments = store.report_assignments(db, period.start, period.end, region)
    published = store.report_clarifications(db, period.start, period.end, region)
    invited = None  # the media's requests for pool experts (rumourwatch.media), by the activity's time
    if store.has_tables(db, "media_requests"):
        from .media import period_summary

        invited = period_summary(db, period.start, period.end, region)
    trained = _expert_trainings(db, period)
    if not assignments and not published and not (invited and invited["requests"]):
        return Section("experts", tr("experts.title"), True, tr("experts.empty", this=tr(f"this.{period.kind}")),
                       {"assignments": 0, "published": 0, "trainings": trained})
    per_expert: dict = {}
    per_unit: dict = {}

    def bucket(table, key, **init):
        return table.setdefault(key, dict(init, assignments=0, declined=0, published=0, hours=[]))

    for s in assignments:
        for b in (bucket(per_expert, s["expert_id"], expert=s["expert_name"], unit=s["institution"]),
                  bucket(per_unit, s["institution"], unit=s["institution"])):
            b["assignments"] += 1
            b["declined"] += s["status"] == "declined"
    hours_all = []
    for c in published:
        h = hours_between(c["alert_created_at"], c["published_at"])
        hours_all.append(h)
        targets = [bucket(per_unit, c["institution"], unit=c["institution"])]
        if c["expert_id"] is not None:
            targets.append(bucket(per_expert, c["expert_id"], expert=c["expert_name"], unit=c["institution"]))
        for b in targets:
            b["published"] += 1
            b["hours"].append(h)

    def rows(table):
        out = []
        for b in table.values():
            hours = b.pop("hours")
            out.append(dict(b, median_hours=_median_hours(hours)))
        return sorted(out, key=lambda r: (-r["published"], -r["assignments"], str(r.get("expert") or r["unit"])))

    data = {"assignments": len(assignments),
            "accepted": sum(s["status"] in ("accepted", "submitted", "completed") for s in assignments),
            "declined": sum(s["status"] == "declined" for s in assignments),
            "published": len(published), "median_hours": _median_hours(hours_all),
            "per_expert": rows(per_expert), "per_unit": rows(per_unit),
            "effects": _effects(db, period, region, now) if published else [], "media": invited,
            "trainings": trained}
    return Section("experts", tr("experts.title"), True, None, data)


def _expert_trainings(db, period: Period) -> dict | None:
    """The experts' trainings (专家培训, rumourwatch.trainings) held in the period: each one's day,
    title and experts, and how many experts took part in any. None without the register."""
    if not store.has_tables(db, "training_experts"):
        return None
    held = store.list_trainings(db, start=period.first_day, end=_day_after(period.last_day), audience="experts")[::-1]
    experts = store.trained_experts(db, period.first_day, _day_after(period.last_day))
    return {"held": [{"held_on": t["held_on"], "title": t["title"], "experts": t["experts"]} for t in held],
            "experts": len(experts)}


def _day_after(day: str) -> str:
    return (date.fromisoformat(day) + timedelta(days=1)).isoformat()


def _publishers(db, period: Period, platforms) -> Section:
    this = tr(f"this.{period.kind}")
    gap = _workflow_gap(db, "verdicts", "takedowns")
    if gap:
        return Section("publishers", tr("publishers.title"), False, gap)
    by_account: dict = {}
    for r in store.report_confirmed_by_account(db, period.end):
        if platforms and r["platform"] not in platforms:
            continue
        by_account.setdefault((r["platform"], r["account"]), []).append(r)
    added = []
    for (platform, account), items in by_account.items():
        if len(items) < REPEAT_PUBLISHER_MIN:
            continue
        reached_at = sorted(i["confirmed_at"] for i in items)[REPEAT_PUBLISHER_MIN - 1]
        if period.start <= reached_at < period.end:
            added.append({"platform": platform, "account": account, "confirmed": len(items),
                          "reach": sum(i["reach"] or 0 for i in items), "reached": china_time(reached_at)})
    added.sort(key=lambda a: (-a["confirmed"], -a["reach"], a["account"]))
    takedowns = [t for t in store.report_takedowns(db, period.start, period.end)
                 if not platforms or t["platform"] in platforms]
    by_status = {s: sum(t["status"] == s for t in takedowns) for s in ("requested", "removed", "refused")}
    data = {"minimum": REPEAT_PUBLISHER_MIN, "added": added, "takedowns": len(takedowns),
            "takedowns_by_status": by_status,
            "takedown_rows": [{"platform": t["platform"], "account": t["account"], "url": safe_url(t["url"]),
                               "status": t["status"], "requested": china_time(t["requested_at"]),
                               "outcome": china_time(t["outcome_at"])} for t in takedowns][:OVERDUE_LIST_LIMIT]}
    message = None if added or takedowns else tr("publishers.none", this=this) + tr("takedowns.none", this=this)
    return Section("publishers", tr("publishers.title"), True, message, data)


def _watched(db, period: Period, previous: Period, platforms, threshold: float, watch: dict | str) -> Section:
    """How often each watched keyword (a search query) and account of the alert rules was met this
    period and the one before, over every collected item as 条目检索 counts them: one scan of both
    periods for all the lines together, split by China day. `watch` is the rules' [watch] table, or
    why it could not be read."""
    # imported when used: search reads this module's formatting
    from .search import watched_hits

    title = tr("watch.title")
    if isinstance(watch, str):
        return Section("watch", title, False, tr("watch.unreadable", reason=watch))
    if not (watch["keywords"] or watch["accounts"]):
        return Section("watch", title, True, tr("watch.none"))
    days = set(period.days)
    rows = []
    for line in watched_hits(db, watch["keywords"], watch["accounts"], previous.start, period.end, threshold,
                             platforms):
        polarity = {"positive": 0, "neutral": 0, "negative": 0}
        row = {"kind": line["kind"], "value": line["value"], "items": 0, "flagged": 0, "previous": 0}
        for h in line["days"]:
            if h["day"] not in days:
                row["previous"] += h["n"]
                continue
            row["items"] += h["n"]
            row["flagged"] += h["flagged"]
            if h["polarity"] in polarity:
                polarity[h["polarity"]] += h["n"]
        row["polarity"] = polarity
        rows.append(row)
    return Section("watch", title, True, None, {"rows": rows})


def _risk(db, period: Period, threshold: float, now: str) -> Section:
    """The risk points (rumourwatch.risk) of the RISK_MONTHS months ending with this one (a quarter's
    or a year's own months): what kept coming back, which a single month is too short to show. Only
    the recurring ones are listed."""
    from . import risk

    months = max(RISK_MONTHS, len(period.months))
    gap = _workflow_gap(db, "alerts", "verdicts")  # confirmed false items and alerts per topic
    if gap:
        return Section("risk", tr("risk.title", months=months), False, gap)
    first = date.fromisoformat(period.months[-1] + "-01")
    for _ in range(months - 1):
        first = (first - timedelta(days=1)).replace(day=1)
    start = iso(datetime(first.year, first.month, first.day, tzinfo=CST))
    points = risk.risk_points(db, start, period.end, threshold)
    recurring = {k: [r for r in points[k] if r["recurring"]][:RISK_ROWS] for k in risk.KINDS}
    data = {"first_day": first.isoformat(), "last_day": period.last_day, "weeks": points["period"]["weeks"],
            "recurring_weeks": points["period"]["recurring_weeks"], "summary": risk.summary(points),
            "counts": {k: sum(1 for r in points[k] if r["recurring"]) for k in risk.KINDS}, **recurring}
    if period.kind == "monthly":
        data["health_days"] = _health_days(db, period, threshold, now)
        data["assessments"] = _assessments(db, period, threshold, now)
    return Section("risk", tr("risk.title", months=months), True, None, data)


def _assessments(db, period: Period, threshold: float, now: str) -> list[dict]:
    """The kept 事前研判 (rumourwatch.assessment) whose planned day falls in the month, each with its
    level and what followed its day (its first days, to the day before `now` at most)."""
    from . import assessment

    today = date.fromisoformat(beijing(now, "%Y-%m-%d"))
    kept = assessment.kept_between(db, date.fromisoformat(period.first_day), date.fromisoformat(period.last_day))
    return [{"title": r["title"], "event_day": r["event_day"], "level": r["level"],
             "after": assessment.aftermath(db, r, today, threshold)} for r in kept]


def _health_days(db, period: Period, threshold: float, now: str) -> dict:
    """A month's 卫生健康纪念日 (rumourwatch.healthdays): those that began in it, each with what the
    feed said of its topic around it (to the day before `now` at most) against the weeks before;
    and those of the next month, to plan."""
    from . import healthdays

    first, last = date.fromisoformat(period.first_day), date.fromisoformat(period.last_day)
    until = date.fromisoformat(beijing(now, "%Y-%m-%d")) - timedelta(days=1)
    after = last + timedelta(days=1)
    upcoming = healthdays.starting_between(db, after, (after + timedelta(days=31)).replace(day=1) - timedelta(days=1))
    return {"held": healthdays.held_between(db, first, last, threshold, until), "baseline_weeks": healthdays.BASELINE_DAYS // 7,
            "next": [{k: d[k] for k in ("name", "topic", "first", "last")} for d in upcoming]}


def _model_health(db, period: Period, threshold: float) -> Section:
    gap = _workflow_gap(db, "verdicts")
    if gap:
        return Section("model", tr("model.title"), False, gap)
    verdicts = store.report_verdicts(db, period.start, period.end)
    if not verdicts:
        return Section("model", tr("model.title"), True, tr("model.empty", this=tr(f"this.{period.kind}")),
                       {"verdicts": 0})
    flagged = [v for v in verdicts if v["rumour_probability"] is not None and v["rumour_probability"] >= threshold]
    confirmed = sum(v["verdict"] == "rumour" for v in flagged)
    dismissed = sum(v["verdict"] == "not_rumour" for v in flagged)
    missed = sum(v["verdict"] == "rumour" for v in verdicts
                 if v["rumour_probability"] is None or v["rumour_probability"] < threshold)
    data = {"verdicts": len(verdicts), "flagged": len(flagged), "confirmed": confirmed, "dismissed": dismissed,
            "unverifiable": len(flagged) - confirmed - dismissed, "precision": percent(confirmed, confirmed + dismissed),
            "missed": missed, "threshold": threshold}
    return Section("model", tr("model.title"), True, None, data)


def _units(db, period: Period, region, minimum: int, now_iso: str) -> Section:
    """Per unit: alerts handled and on time, information reported by its correspondents (信息报送:
    submitted, not withdrawn; how many adopted) and clarifications published by its experts, the two
    together (`counted`) against the monthly minimum. A quarter or a year judges each of its months
    that has ended (by `now_iso`) on its own: a unit meets the rule in a month when it reported its
    minimum that month."""
    this = tr(f"this.{period.kind}")
    units = {u["name"]: u for u in store.list_units(db, region=region)} if store.has_tables(db, "units") else {}
    gap = _workflow_gap(db, "alerts", "experts", "assignments", "clarifications")
    if gap:
        return Section("units", tr("units.title"), False, gap,
                       {"minimum": minimum, "registered": sorted(units)})
    table = {name: {"unit": name, "kind": u["kind"], "region": u["region"],
                    "minimum": u["monthly_minimum"] if u["monthly_minimum"] is not None else minimum,
                    "handled": 0, "on_time": 0, "clarifications": 0, "reported": 0, "adopted": 0}
             for name, u in units.items()}
    registered = bool(units)

    def row(name):
        if name not in table:  # an expert's institution missing from the unit list: still counted
            table[name] = {"unit": name, "kind": None, "region": None, "minimum": minimum,
                           "handled": 0, "on_time": 0, "clarifications": 0, "reported": 0, "adopted": 0}
        return table[name]

    unassigned = 0
    for a in store.report_alerts_responded(db, period.start, period.end, region):
        if not a["unit"]:
            unassigned += 1
            continue
        r = row(a["unit"])
        r["handled"] += 1
        r["on_time"] += a["responded_at"] <= a["respond_by"]
    by_month: dict[str, Counter] = {}
    for c in store.report_clarifications(db, period.start, period.end, region):
        if c["institution"]:
            row(c["institution"])["clarifications"] += 1
            month = beijing(c["published_at"], "%Y-%m")
            by_month.setdefault(c["institution"], Counter())[month] += 1
    if store.has_tables(db, "submissions"):
        for s in store.report_submissions(db, period.start, period.end, region):
            r = row(s["unit"])
            r["reported"] += 1
            r["adopted"] += s["status"] == "adopted"
            by_month.setdefault(s["unit"], Counter())[beijing(s["submitted_at"], "%Y-%m")] += 1
    since, judged = _judged_months(db, period, now_iso)
    rows = list(table.values())
    for r in rows:
        r["on_time_rate"] = percent(r["on_time"], r["handled"])
        r["counted"] = r["reported"] + r["clarifications"]
        if judged is None:
            r["below_minimum"] = r["counted"] < r["minimum"]
            continue
        counts = by_month.get(r["unit"], Counter())
        r["by_month"] = {m: counts[m] for m in period.months}
        r["short_months"] = [m for m in judged if counts[m] < r["minimum"]]
        r["months_met"] = len(judged) - len(r["short_months"])
        r["below_minimum"] = bool(r["short_months"])
    def standing(r):
        return -r["counted"], -r["adopted"], -(r["on_time_rate"] or -1), -r["handled"]

    rows.sort(key=lambda r: (*standing(r), r["unit"]))
    for i, r in enumerate(rows):  # equal figures share a rank (1, 2, 2, 4 …); names only order the tie
        r["rank"] = rows[i - 1]["rank"] if i and standing(r) == standing(rows[i - 1]) else i + 1
    message = None if rows else tr("units.empty", this=this)
    return Section("units", tr("units.title"), True, message,
                   {"minimum": minimum, "rows": rows, "registered": registered, "judged_months": judged,
                    "data_since": since, "trainings": _trainings(db, period, units, since, now_iso),
                    "below": [r["unit"] for r in rows if r["below_minimum"]], "unassigned_handled": unassigned})


def _trainings(db, period: Period, units: dict, since: str | None, now_iso: str) -> dict | None:
    """The correspondents' trainings (rumourwatch.trainings) held in the period, oldest first; for a
    quarter or a year each half-year it touches, with the trainings held in the whole half, judged
    against 原则上每半年开展一次 once it has ended (a half without one that ended before `since`, the
    first month the platform collected anything, is not judged, as the months are not); for a year
    the units (of `units`, {name: unit}) that took part in none, when any was held. None without
    the table."""
    if not store.has_tables(db, "trainings"):
        return None
    first, end = beijing(period.start, "%Y-%m-%d"), beijing(period.end, "%Y-%m-%d")
    out: dict = {"held": store.list_trainings(db, start=first, end=end)[::-1]}
    if period.kind != "monthly":
        today = beijing(now_iso, "%Y-%m-%d")
        out["halves"] = [{"year": h["year"], "half": h["half"], "held": h["held"],
                          "ended": h["end"].isoformat() <= today,
                          "before_data": not since or h["end"].strftime("%Y-%m") <= since}
                         for h in trainings.halves(db, date.fromisoformat(first), date.fromisoformat(end))]
    if period.kind == "annual" and out["held"]:
        attended = store.trained_units(db, start=first, end=end)
        out["untrained"] = [name for name, u in units.items() if u["id"] not in attended]
    return out


def trainings_lines(kind: str, d: dict | None) -> list[str]:
    """The units section's lines on the correspondents' trainings (`_trainings`): those held (a month
    without one says nothing), the half-years judged, a year's units that took part in none."""
    if d is None:
        return []
    this = tr(f"this.{kind}")
    lines = []
    if d["held"]:
        listed = "；".join(tr("units.training", month=int(t["held_on"][5:7]), day=int(t["held_on"][8:]),
                              title=t["title"], units=t["units"],
                              people=tr("units.training.people", n=t["attendees"]) if t["attendees"] else "")
                           for t in d["held"])
        lines.append(tr("units.trainings", this=this, n=len(d["held"]), list=listed))
    elif kind != "monthly":
        lines.append(tr("units.trainings.none", this=this))
    if d.get("halves"):
        def verdict(h):
            if h["held"]:
                return tr("units.half.met")
            return tr("units.half.running" if not h["ended"] else "units.half.before" if h["before_data"]
                      else "units.half.short")

        lines.append(tr("units.halves", halves="；".join(
            tr("units.half", year=h["year"], half=tr(f"units.half.{h['half']}"), n=h["held"], verdict=verdict(h))
            for h in d["halves"])))
    if d.get("untrained"):
        lines.append(tr("units.untrained", this=this, n=len(d["untrained"]), names="、".join(d["untrained"])))
    return lines


def unit_standing(db, month: str, now: datetime, minimum: int = DEFAULT_UNIT_MONTHLY_MINIMUM) -> dict:
    """The monthly notice's ranking of the units for `month` ('2026-11'), computed alone (its units
    section, without the rest of the notice): {unit name: row with rank, counted, below_minimum …},
    and "total", the number of units ranked."""
    section = _units(db, parse_month(month), None, minimum, iso(now))
    rows = section.data.get("rows", []) if section.available else []
    return {"total": len(rows), "rows": {r["unit"]: r for r in rows}}


def _referrals(db, period: Period, region, now_iso: str) -> dict | None:
    """The period's 交办属地单位 (rumourwatch.referrals): how many, answered in time, late, not yet
    (due already), and the units that answered late or not at all. None without the table."""
    if not store.has_tables(db, "referrals"):
        return None
    from .referrals import state

    now = parse_time(now_iso)
    states = [(r, state(r, now)) for r in store.list_referrals(db, start=period.start, end=period.end, limit=100_000)
              if r["status"] != "withdrawn" and (not region or r["alert_region"] == region)]
    count = Counter(s for _, s in states)
    return {"referred": len(states), "on_time": count["replied"], "late": count["replied_late"],
            "missing": count["overdue"],
            "lagging": sorted({r["unit_name"] for r, s in states if s in ("replied_late", "overdue")})}


# --- compute --------------------------------------------------------------------------------

def _filters(region, platform) -> dict:
    return {"region": region or None, "platform": platform or None}


def _header(kind: str, period: Period, filters: dict, now: datetime) -> tuple[str, list[str]]:
    scope = [tr("scope.health")]
    if filters["region"]:
        scope.append(tr("scope.region", region=filters["region"]))
    if filters["platform"]:
        scope.append(tr("scope.platform", platform=filters["platform"]))
    return tr(f"{kind}.title"), scope


def compute_daily(db, period: Period | str, *, region: str | None = None, platform: str | None = None,
                  threshold: float = 0.5, now: datetime | None = None, top: int = TOP_RUMOURS,
                  quiet_hours: float = QUIET_HOURS, watch: dict | str | None = None) -> Report:
    """The daily report (日报) for one China-time day (`Period` or "2026-11-23"): the weekly
    summary's sections for the day, against the day before."""
    period = parse_day(period) if isinstance(period, str) else period
    if period.kind != "daily":
        raise ReportError(f"{period.label} is not a day", "report_bad_day", value=period.label)
    return _compute("daily", db, period, region, platform, threshold, now, top, DEFAULT_UNIT_MONTHLY_MINIMUM,
                    quiet_hours, watch)


def compute_weekly(db, period: Period | str, *, region: str | None = None, platform: str | None = None,
                   threshold: float = 0.5, now: datetime | None = None, top: int = TOP_RUMOURS,
                   quiet_hours: float = QUIET_HOURS, watch: dict | str | None = None) -> Report:
    """The weekly summary for an ISO week (`Period` or "2026-W47"), optionally for one region/platform.
    `watch`: the watched keywords and accounts (the alert rules' [watch] table, or why it could not be
    read; None: read the rules file of the settings)."""
    period = parse_week(period) if isinstance(period, str) else period
    if period.kind != "weekly":
        raise ReportError(f"{period.label} is not a week", "report_bad_week", value=period.label)
    return _compute("weekly", db, period, region, platform, threshold, now, top, DEFAULT_UNIT_MONTHLY_MINIMUM,
                    quiet_hours, watch)


def compute_monthly(db, period: Period | str, *, region: str | None = None, platform: str | None = None,
                    threshold: float = 0.5, now: datetime | None = None, top: int = TOP_RUMOURS,
                    minimum: int = DEFAULT_UNIT_MONTHLY_MINIMUM, quiet_hours: float = QUIET_HOURS,
                    watch: dict | str | None = None) -> Report:
    """The monthly notice (月通报): the month's figures plus the ranked per-unit table."""
    return _compute_long("monthly", db, period, region, platform, threshold, now, top, minimum, quiet_hours, watch)


def compute_quarterly(db, period: Period | str, *, region: str | None = None, platform: str | None = None,
                      threshold: float = 0.5, now: datetime | None = None, top: int = TOP_RUMOURS,
                      minimum: int = DEFAULT_UNIT_MONTHLY_MINIMUM, quiet_hours: float = QUIET_HOURS,
                      watch: dict | str | None = None) -> Report:
    """The quarterly report (季度报告, "2026-Q4"): the monthly notice's sections for three months,
    against the quarter before, units judged month by month."""
    return _compute_long("quarterly", db, period, region, platform, threshold, now, top, minimum, quiet_hours,
                         watch)


def compute_annual(db, period: Period | str, *, region: str | None = None, platform: str | None = None,
                   threshold: float = 0.5, now: datetime | None = None, top: int = TOP_RUMOURS,
                   minimum: int = DEFAULT_UNIT_MONTHLY_MINIMUM, quiet_hours: float = QUIET_HOURS,
                   watch: dict | str | None = None) -> Report:
    """The annual report (年度报告, "2026"): the year's opinion line (the figure the commissions'
    annual summaries print, seed 004) month by month, against the year before, units judged month by
    month and the year's risk points."""
    return _compute_long("annual", db, period, region, platform, threshold, now, top, minimum, quiet_hours, watch)


def _compute_long(kind, db, period, region, platform, threshold, now, top, minimum, quiet_hours, watch) -> Report:
    if isinstance(period, str) or period.kind != kind:
        # a label, or a period of another kind read as this kind's: its parser says what to write
        period = parse_period(kind, period if isinstance(period, str) else period.label)
    if minimum < 0:
        raise ReportError(f"the monthly minimum must be 0 or more, got {minimum}", "report_minimum", value=minimum)
    return _compute(kind, db, period, region, platform, threshold, now, top, minimum, quiet_hours, watch)


def _watch_rules(path=None) -> dict | str:
    """The alert rules' [watch] table (the rules file at `path`, default the `alert_rules` setting), or
    in one line why the rules could not be read (the report is still made, that section saying so)."""
    try:
        return load_rules(path)["watch"]
    except ConfigError as exc:
        return str(exc)


def _compute(kind, db, period, region, platform, threshold, now, top, minimum, quiet_hours, watch) -> Report:
    now = now or datetime.now(UTC)
    watch = _watch_rules() if watch is None else watch
    now_iso = iso(now)
    filters = _filters(region, platform)
    platforms = [platform] if platform else None
    previous = period.previous()
    title, scope = _header(kind, period, filters, now)
    if period.end > now_iso:
        scope.append(tr("scope.unfinished"))
    sections = [_volume(db, period, previous, platforms, threshold, quiet_hours, now_iso)]
    topics = _topics(db, period, previous, platforms, threshold)
    if topics.data["rows"]:  # with no health item at all the volume section has said so already
        sections.append(topics)
    sections.append(_rumours(db, period, platforms, threshold, now_iso, top))
    if kind in LONG_KINDS:
        sections.append(_units(db, period, region, minimum, now_iso))
    sections += [_alerts(db, period, region, now_iso, threshold, platforms), _experts(db, period, region, now_iso), _publishers(db, period, platforms)]
    if kind in LONG_KINDS:
        sections.append(_risk(db, period, threshold, now_iso))
    sections += [_watched(db, period, previous, platforms, threshold, watch), _model_health(db, period, threshold)]
    for n, section in zip(SECTION_NUMERALS, sections):  # numbered by position: the units come third monthly
        section.title = tr("section.numbered", n=n, title=section.title)
    return Report(kind, title, period, previous, filters, now_iso, scope, sections)


def compute(kind: str, db, label: str, **kwargs) -> Report:
    if kind in ("daily", "weekly"):
        kwargs.pop("minimum", None)
        return (compute_daily if kind == "daily" else compute_weekly)(db, label, **kwargs)
    if kind in LONG_KINDS:
        return {"monthly": compute_monthly, "quarterly": compute_quarterly, "annual": compute_annual}[kind](
            db, label, **kwargs)
    raise _bad_kind(kind)


# --- shared formatting (Markdown, HTML and the dashboard print the same strings) -------------

def fmt_int(n) -> str:
    return tr("none") if n is None else f"{n:,}"


def fmt_pct(x) -> str:
    return tr("none") if x is None else f"{x:.1f}%"


def fmt_hours(h) -> str:
    return tr("none") if h is None else tr("hours", h=f"{h:.1f}")


def fmt_signed(x, unit: str = "") -> str:
    return f"{x:+,}{unit}" if isinstance(x, int) else f"{x:+.1f}{unit}"


def period_text(report: Report) -> str:
    p = report.period
    if p.kind == "daily":
        d = date.fromisoformat(p.first_day)
        return tr("period.daily", year=d.year, month=d.month, day=d.day, weekday=weekday_zh(d))
    if p.kind == "weekly":
        return tr("period.weekly", label=p.label, start=p.first_day, end=p.last_day)
    if p.kind == "quarterly":
        return tr("period.quarterly", year=p.first_day[:4], quarter="一二三四"[int(p.label[-1]) - 1],
                  start=p.first_day, end=p.last_day)
    if p.kind == "annual":
        return tr("period.annual", year=p.label, start=p.first_day, end=p.last_day)
    y, m = p.label.split("-")
    return tr("period.monthly", year=y, month=int(m), start=p.first_day, end=p.last_day)


def generated_text(report: Report) -> str:
    return tr("generated", time=china_time(report.generated_at, "%Y-%m-%d %H:%M"))


def volume_lines(report: Report) -> list[str]:
    """The volume section's sentences, the opinion line first (exactly as opinion_line prints it)."""
    s = report.section("volume")
    d = s.data
    prev = tr(f"prev.{report.kind}")
    lines = [d["opinion_line"]]
    lines.append(tr("volume.collected", items=fmt_int(d["items"]), health=fmt_int(d["health_related"]),
                    flagged=fmt_int(d["flagged"]), unscored=fmt_int(d["unscored"])))
    if d["change"]:
        c = d["change"]
        total = f"{fmt_signed(c['total'])} 条" + (f"（{fmt_signed(c['total_percent'], '%')}）"
                                                   if c["total_percent"] is not None else "")
        shares = "，".join(f"{tr('polarity.' + p)}占比 {fmt_signed(c['shares_pp'][p])} 个百分点" for p in POLARITIES)
        lines.append(tr("volume.change", prev=prev, total=total, shares=shares))
        lines.append(f"{prev}：{d['previous']['opinion_line']}")
    else:
        lines.append(tr("volume.change.none", prev=prev))
    tips = d.get("tips")
    if tips is not None:  # None: a store from before tips
        this = tr(f"this.{report.kind}")
        channels = "，".join(f"{tr('tips.channel.' + c) if c in TIP_CHANNELS else c} {n} 条"
                            for c, n in tips["by_channel"].items())
        lines.append(tr("tips.summary", this=this, total=tips["total"], channels=channels, stories=tips["stories"],
                        confirmed=tips["confirmed"]) if tips["total"] else tr("tips.none", this=this))
    read = d.get("readings")  # None: a store from before human readings
    if read and (read["pending"] or read["read"]):
        langs = {c: read["pending"].get(c, 0) + read["read"].get(c, 0) for c in {*read["pending"], *read["read"]}}
        lines.append(tr("readings.summary", this=tr(f"this.{report.kind}"), total=fmt_int(sum(langs.values())),
                        languages=scripts_text(langs),
                        read=fmt_int(sum(read["read"].values())), health=fmt_int(read["read_health"]),
                        pending=fmt_int(sum(read["pending"].values()))))
    gaps = d.get("gaps")
    if gaps:  # in the section whose figures they lower
        listed = "；".join(gap_text(g) for g in gaps[:GAPS_LISTED])
        if len(gaps) > GAPS_LISTED:
            listed += tr("gaps.more", total=len(gaps), shown=GAPS_LISTED)
        lines.append(tr("gaps.summary", this=tr(f"this.{report.kind}"), n=len(gaps), limit=f"{d['quiet_hours']:g}",
                           list=listed))
    return lines + next_week_lines(report)


def next_week_lines(report: Report) -> list[str]:
    """A weekly's next week: the health days that begin in it and the kept 事前研判 planned for it
    (none: nothing said, a week says only what it has; not in weeklies saved before them)."""
    ahead = report.section("volume").data.get("health_days") or {}
    lines = [tr("days.next.weekly", days=days_text(ahead["next"]))] if ahead.get("next") else []
    if ahead.get("assessed"):
        from .assessment import LEVEL_ZH

        lines.append(tr("assess.next.weekly", items="；".join(
            f"{_day_span(a['event_day'], a['event_day'])} {a['title']}（研判风险{LEVEL_ZH[a['level']]}）"
            for a in ahead["assessed"])))
    return lines


def gap_text(gap: dict) -> str:
    """'weibo 11-18 02:00 至 11-18 14:00（12 小时）', or '… 起（3 天，至统计截止仍无新条目）'."""
    key = "gaps.item.open" if gap["open"] else "gaps.item"
    return tr(key, source=gap["source"], start=china_time(gap["start"]), end=china_time(gap["end"]),
              duration=duration_text(gap["hours"]))


def duration_text(hours: float) -> str:
    """'40 分钟', '12 小时' under two days, else '3 天' (whole units, rounded down)."""
    if hours < 1:
        return tr("duration.minutes", n=max(1, int(hours * 60)))
    return tr("duration.hours", n=int(hours)) if hours < 48 else tr("duration.days", n=int(hours // 24))


def _kinds(rows: list[dict]) -> dict[str, int]:
    """How the period's alerts arose ({Chinese kind: n}, in the alert page's order): the rules'
    sources, and the stories monitors raised by hand (what the rules missed)."""
    counts = Counter(a["kind"] for a in rows)
    order = [*ALERT_KINDS, *sorted(set(counts) - set(ALERT_KINDS))]
    return {ALERT_KIND_ZH.get(k, k): counts[k] for k in order if counts[k]}


def press_lines(report: Report) -> list[str]:
    """The period's press conferences and media activities (`_press`): how many, the conferences on
    alerts and their spokespersons; for a month, whether each monthly minimum was met; for a quarter
    or a year, the months judged that had none; the higher commission's events taken part in, and
    for a year whether its minimum was met. A day or a week says only what it held."""
    s = report.section("alerts")
    d = s.data.get("press") if s.available else None
    if not d:
        return []
    kind, this = report.kind, tr(f"this.{report.kind}")
    brief = kind in ("daily", "weekly")
    lines = []
    if d["held"] or not brief:
        line = tr("press.held", this=this, n=d["held"], alerts=d["on_alerts"])
        if d["spokespersons"]:
            line += tr("press.speakers", names="、".join(d["spokespersons"]))
        lines.append(line + "。")
        missing = d["months_without"]
        if kind == "monthly":
            lines.append(tr("press.month.short" if missing else "press.month.met", minimum=d["minimum"]))
        elif kind in ("quarterly", "annual") and d["judged"]:
            lines.append(tr("press.short", minimum=d["minimum"], months="、".join(missing)) if missing
                         else tr("press.met", minimum=d["minimum"], n=len(d["judged"])))
    media = d.get("media")  # (reports saved before media activities were registered have none)
    if media and kind == "monthly":
        lines.append(tr("press.media.month.short" if media["months_without"] else "press.media.month.met",
                        n=media["held"], minimum=media["minimum"]))
    elif media and (media["held"] or not brief):
        lines.append(tr("press.media.held", this=this, n=media["held"]))
        if kind in ("quarterly", "annual") and d["judged"]:
            lines.append(tr("press.media.short", minimum=media["minimum"], months="、".join(media["months_without"]))
                         if media["months_without"] else tr("press.media.met", minimum=media["minimum"],
                                                             n=len(d["judged"])))
    trained = (d.get("training") or {}).get("held")  # (nor before the press trainings were kept)
    if trained:
        lines.append(tr("press.training", this=this, n=trained))
    upper = d.get("upper")
    if upper and upper.get("state") == "ended":
        lines.append(tr("press.upper.met" if upper["held"] >= upper["minimum"] else "press.upper.short",
                        n=upper["held"], minimum=upper["minimum"]))
    elif upper and upper["held"]:
        lines.append(tr("press.upper.held", this=this, n=upper["held"]))
    elif upper and upper.get("state") == "running":
        lines.append(tr("press.upper.running", minimum=upper["minimum"]))
    return lines + own_media_lines(report)


def own_media_lines(report: Report) -> list[str]:
    """The office's own channels in the period (`_own_media`): what they published and what it
    reached against the period before, the post that spread most, the topics the public talked
    about that they did not answer. Nothing without channels (nor in reports saved before them)."""
    s = report.section("alerts")
    d = s.data.get("own_media") if s.available else None
    if not d:
        return []
    total, before = d["total"], d["previous"]
    lines = [tr("own.published", this=tr(f"this.{report.kind}"), prev=tr(f"prev.{report.kind}"), channels=d["channels"],
                posts=fmt_int(total["posts"]), health=fmt_int(total["health"]),
                engagement=fmt_int(total["engagement"]),
                per_post=fmt_int(round(total["engagement"] / total["posts"])) if total["posts"] else "—",
                prev_posts=fmt_int(before["posts"]), prev_engagement=fmt_int(before["engagement"]))]
    posted = sorted(((p, n) for p, n in (d.get("platforms") or {}).items() if n), key=lambda x: (-x[1], x[0]))
    if len(posted) > 1:  # (not in reports saved before the platforms were counted)
        lines[0] += tr("own.platforms", platforms="、".join(f"{p} {fmt_int(n)} 条" for p, n in posted))
    if d["top"] and d["top"][0]["engagement"]:
        top = d["top"][0]
        lines.append(tr("own.top", name=top["name"], day=beijing(top["published_at"], "%-m 月 %-d 日"),
                        text=clip(top["title"] or top["text"], TOP_TEXT_CHARS), engagement=fmt_int(top["engagement"])))
    if d["unanswered"]:
        lines.append(tr("own.unanswered", this=tr(f"this.{report.kind}"), topics="、".join(
            tr("own.unanswered.topic", topic=r["topic"], items=fmt_int(r["items"]), flagged=fmt_int(r["flagged"]))
            for r in d["unanswered"])))
    return lines


def alerts_lines(report: Report) -> list[str]:
    s = report.section("alerts")
    if not s.available or s.message:
        return [s.message, *press_lines(report)]
    d = s.data
    this = tr(f"this.{report.kind}")
    sev = "，".join(f"{k} {v} 起" for k, v in d["by_severity"].items())
    lines = [tr("alerts.summary", this=this, total=d["total"], dismissed=d["dismissed"], severities=sev),
             tr("alerts.deadlines", actionable=d["actionable"], n5=d["within_5h"], p5=fmt_pct(d["share_5h"]),
                n24=d["within_24h"], p24=fmt_pct(d["share_24h"]))]
    if d["conference_required"]:
        lines.append(tr("alerts.conference", required=d["conference_required"], on_time=d["conference_on_time"]))
    if d.get("briefed"):  # reports saved before the special report existed have no such figure
        lines.append(tr("alerts.briefed", n=d["briefed"]))
    if d.get("kinds"):  # (nor before the kinds were counted)
        lines.append(tr("alerts.kinds", kinds="，".join(f"{k} {n} 起" for k, n in d["kinds"].items())))
    ref = d.get("referrals")  # (nor before referrals were kept)
    if ref and ref["referred"]:
        lines.append(tr("alerts.referrals", this=this, n=ref["referred"], on_time=ref["on_time"], late=ref["late"],
                        missing=ref["missing"])
                     + (tr("alerts.referrals.lagging", names="、".join(ref["lagging"])) if ref["lagging"] else ""))
    return lines + press_lines(report)


def experts_lines(report: Report) -> list[str]:
    s = report.section("experts")
    if not s.available or s.message:
        return [s.message]
    d = s.data
    out = [tr("experts.summary", this=tr(f"this.{report.kind}"), assignments=d["assignments"],
              accepted=d["accepted"], declined=d["declined"], published=d["published"],
              median=fmt_hours(d["median_hours"]))]
    if d.get("effects"):
        from .effect import summary

        out.append(tr("experts.effect", summary=summary(d["effects"])))
    invited = d.get("media")  # reports saved before media requests were kept have none
    if invited and invited["requests"]:
        out.append(tr("experts.media", this=tr(f"this.{report.kind}"), **invited))
    return out + expert_training_lines(report)


def expert_training_lines(report: Report) -> list[str]:
    """The period's experts' trainings (`_expert_trainings`), in a period with or without tasks; a
    period without one says nothing."""
    s = report.section("experts")
    d = s.data.get("trainings") if s.available else None  # (nor before experts' trainings were kept)
    if not d or not d["held"]:
        return []
    titles = "、".join(f"{t['held_on'][5:]}《{t['title']}》" for t in d["held"])
    return [tr("experts.trainings", this=tr(f"this.{report.kind}"), n=len(d["held"]), titles=titles,
               experts=d["experts"])]


def publishers_lines(report: Report) -> list[str]:
    s = report.section("publishers")
    if not s.available:
        return [s.message]
    d = s.data
    this = tr(f"this.{report.kind}")
    lines = [tr("publishers.added", this=this, minimum=d["minimum"], n=len(d["added"])) if d["added"]
             else tr("publishers.none", this=this)]
    b = d["takedowns_by_status"]
    lines.append(tr("takedowns.summary", this=this, requested=d["takedowns"], removed=b["removed"],
                    refused=b["refused"], pending=b["requested"]) if d["takedowns"] else tr("takedowns.none", this=this))
    return lines


def model_lines(report: Report) -> list[str]:
    s = report.section("model")
    if not s.available or s.message:
        return [s.message]
    d = s.data
    return [tr("model.summary", this=tr(f"this.{report.kind}"), verdicts=d["verdicts"], flagged=d["flagged"],
               confirmed=d["confirmed"], dismissed=d["dismissed"], unverifiable=d["unverifiable"],
               precision=fmt_pct(d["precision"])),
            tr("model.missed", missed=d["missed"])]


def watch_lines(report: Report) -> list[str]:
    s = report.section("watch")
    if not s.available or s.message:
        return [s.message]
    rows = s.data["rows"]
    this, prev = tr(f"this.{report.kind}"), tr(f"prev.{report.kind}")
    top = max(rows, key=lambda r: r["items"])
    if not top["items"]:
        return [tr("watch.rule"), tr("watch.quiet", this=this)]
    return [tr("watch.rule"), tr("watch.top", this=this, prev=prev, value=top["value"], items=fmt_int(top["items"]),
                                 change=_change_text(top["items"], top["previous"]))]


def topics_lines(report: Report) -> list[str]:
    s = report.section("topics")
    if s.message:
        return [s.message]
    rows, this = s.data["rows"], tr(f"this.{report.kind}")
    top = rows[0]
    lines = [tr("topics.rule"), tr("topics.top", this=this, topic=top["topic"], items=fmt_int(top["items"]),
                                   share=fmt_pct(top["share"]), negative=fmt_pct(top["negative_share"]))]
    rising = [r for r in rows if r["previous"] and r["items"] > r["previous"]]
    if rising:  # the most items more (not the largest percentage: one item more in a tiny topic is no news)
        best = max(rising, key=lambda r: (r["items"] - r["previous"], r["topic"]))
        lines.append(tr("topics.rising", prev=tr(f"prev.{report.kind}"), topic=best["topic"],
                        change=fmt_signed(best["change"], "%")))
    return lines


def topics_table(report: Report) -> tuple[list[str], list[list]]:
    prev = tr(f"prev.{report.kind}")
    head = [tr("col.topic"), tr("col.topic_items"), tr("col.topic_share"), tr("col.negative_share"),
            tr("col.flagged"), tr("col.prev_items", prev=prev), tr("col.change")]
    return head, [[r["topic"], fmt_int(r["items"]), fmt_pct(r["share"]), fmt_pct(r["negative_share"]),
                   fmt_int(r["flagged"]), fmt_int(r["previous"]),
                   fmt_signed(r["change"], "%") if r["previous"] else tr("change.new")]
                  for r in report.section("topics").data.get("rows", [])]


def tags_table(report: Report) -> tuple[str, list[str], list[list]] | None:
    """The period's hottest health hashtags (title, head, rows), None when none had enough stories."""
    from .trending import MIN_ACCOUNTS, MIN_STORIES, status_text

    tags = report.section("topics").data.get("tags") or []
    if not tags:
        return None
    prev = tr(f"prev.{report.kind}")
    head = [tr("col.tag"), tr("col.stories"), tr("col.accounts"), tr("col.negative_items"), tr("col.flagged"),
            tr("col.prev_stories", prev=prev), tr("col.change")]
    return (tr("topics.tags", stories=MIN_STORIES, accounts=MIN_ACCOUNTS), head,
            [[f"#{r['tag']}#", fmt_int(r["stories"]), fmt_int(r["accounts"]), fmt_int(r["negative"]),
              fmt_int(r["flagged"]), fmt_int(r["before_stories"]), status_text(r)] for r in tags])


def risk_lines(report: Report) -> list[str]:
    s = report.section("risk")
    if not s.available:
        return [s.message]
    d = s.data
    rule = tr("risk.rule", first=d["first_day"], last=d["last_day"], weeks=d["weeks"], recurring=d["recurring_weeks"])
    return [rule, d["summary"] if any(d["counts"].values()) else tr("risk.none", months=RISK_MONTHS),
            *health_days_lines(d.get("health_days")),  # (not in notices saved before the days were listed)
            *assessment_lines(d.get("assessments") or [])]


def assessment_lines(kept: list[dict]) -> list[str]:
    """The month's kept 事前研判 (`_assessments`), each with what followed its day."""
    from .assessment import AFTER_DAYS, LEVEL_ZH, change_text

    lines = []
    for a in kept:
        what = {"day": _day_span(a["event_day"], a["event_day"]), "title": a["title"], "level": LEVEL_ZH[a["level"]]}
        after = a["after"]
        if after["state"] in ("ahead", "running"):
            lines.append(tr("assess.ahead", **what))
            continue
        change = tr("assess.change", days=AFTER_DAYS, change=change_text(after["change"])) \
            if after["change"] is not None else tr("assess.change.none", days=AFTER_DAYS)
        lines.append(tr("assess.after", **what, days=after["days"], items=fmt_int(after["items"]),
                        change=change, flagged=fmt_int(after["flagged"]),
                        before_flagged=fmt_int(after["before_flagged"]), negative=fmt_pct(after["negative_share"]),
                        before_negative=fmt_pct(after["before_negative_share"])))
    return lines


def _day_span(first: str, last: str) -> str:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    return f"{a.month} 月 {a.day} 日" + ("" if a == b else f"至 {b.month} 月 {b.day} 日" if a.month != b.month
                                        else f"至 {b.day} 日")


def days_text(days: list[dict]) -> str:
    """Health days ahead (name, topic, first and last day) as "12 月 1 日 世界艾滋病日（传染病及地方病防控）；…"."""
    return "；".join(f"{_day_span(n['first'], n['last'])} {n['name']}（{n['topic']}）" for n in days)


def health_days_lines(d: dict | None) -> list[str]:
    """A month's health days (`_health_days`): each that began in it with its topic's window, then
    the next month's."""
    if not d:
        return []
    lines = []
    for h in d["held"]:
        change = tr("days.change", weeks=d["baseline_weeks"], sign="+" if h["change"] >= 0 else "−",
                    pct=abs(h["change"])) if h["change"] is not None else tr("days.change.none", weeks=d["baseline_weeks"])
        what = {"name": h["name"], "when": _day_span(h["first"], h["last"]), "topic": h["topic"],
                "window": _day_span(h["window_first"], h["window_last"])}
        lines.append(tr("days.held", **what, items=fmt_int(h["items"]), change=change, flagged=fmt_int(h["flagged"]))
                     if h["items"] else tr("days.held.quiet", **what))
    if not d["held"]:
        lines.append(tr("days.held.none"))
    lines.append(tr("days.next", days=days_text(d["next"])) if d["next"] else tr("days.next.none"))
    return lines


def risk_tables(report: Report) -> list[tuple[str, list[str], list[list]]]:
    """The recurring topics, accounts and places, each as (title, head, rows); empty ones left out."""
    if not report.section("risk").available:
        return []
    d = report.section("risk").data
    weeks = d["weeks"]
    out = []
    if d["topics"]:
        out.append((tr("risk.topics"), [tr("col.topic"), tr("col.flagged"), tr("col.confirmed"), tr("col.weeks"),
                                         tr("col.negative_share")],
                    [[r["topic"], fmt_int(r["flagged"]), fmt_int(r["confirmed"]), f"{r['flagged_weeks']}/{weeks}",
                      fmt_pct(percent(r["negative"], r["items"]))] for r in d["topics"]]))
    if d["accounts"]:
        out.append((tr("risk.accounts"), [tr("col.platform"), tr("col.account"), tr("col.flagged"),
                                           tr("col.confirmed"), tr("col.weeks")],
                    [[r["platform"], r["account"], fmt_int(r["flagged"]), fmt_int(r["confirmed"]),
                      f"{r['flagged_weeks']}/{weeks}"] for r in d["accounts"]]))
    if d["regions"]:
        out.append((tr("risk.regions"), [tr("col.region"), tr("col.flagged"), tr("col.weeks"),
                                          tr("col.negative_share")],
                    [[r["region"], fmt_int(r["flagged"]), f"{r['flagged_weeks']}/{weeks}",
                      fmt_pct(percent(r["negative"], r["items"]))] for r in d["regions"]]))
    return out


def _change_text(now: int, before: int) -> str:
    """'+35.0%', '-20.0%', '持平', or '新出现' when there was nothing before."""
    if not before:
        return tr("change.new") if now else tr("change.same")
    if now == before:
        return tr("change.same")
    return fmt_signed(percent(now - before, before), "%")


def units_lines(report: Report) -> list[str]:
    s = report.section("units")
    if not s.available or s.message:
        return [s.message]
    d = s.data
    lines = [tr("units.rule", minimum=d["minimum"])]
    judged = d.get("judged_months")
    if judged is not None:  # a quarter or a year: its ended months, one by one
        this = tr(f"this.{report.kind}")
        lines.append(tr("units.months", this=this, n=len(judged), first=judged[0], last=judged[-1]) if judged
                     else tr("units.months.none", this=this))
        since = d.get("data_since")
        if since and since > report.period.months[0]:
            lines.append(tr("units.months.since", since=since))
    below_key = "units.below" if judged is None else "units.below.months"
    if judged is None or judged:  # with no month judged yet, no unit is below or above
        lines.append(tr(below_key, n=len(d["below"]), names="、".join(d["below"])) if d["below"]
                     else tr("units.below.none"))
    if d["unassigned_handled"]:
        lines.append(tr("units.unassigned", n=d["unassigned_handled"]))
    return lines + trainings_lines(report.kind, d.get("trainings"))


def rumour_table(report: Report) -> tuple[list[str], list[list]]:
    """Header and rows of the top-rumours table; cells are plain values (link cells are (text, url))."""
    rows = report.section("rumours").data["rows"]
    head = [tr(k) for k in ("col.rank", "col.content", "col.platform", "col.account", "col.spread",
                            "col.copies", "col.probability", "col.status", "col.link")]
    body = [[r["rank"], clip(r["text"], 60), r["platform"], r["account"] or tr("none"), fmt_int(r["spread"]),
             fmt_int(r["copies"]), f"{r['rumour_probability']:.2f}", r["status_label"],
             (tr("status.clarified") if r["clarification_url"] else "原文", r["clarification_url"] or r["url"])]
            for r in rows]
    return head, body


def overdue_table(report: Report) -> tuple[list[str], list[list]]:
    d = report.section("alerts").data
    head = [tr(k) for k in ("col.alert", "col.severity", "col.content", "col.created", "col.respond_by",
                            "col.responded", "col.late", "col.expert")]
    body = [[f"#{o['alert_id']}", o["severity"], clip(o["title"] or "", 40), o["created"], o["respond_by"],
             o["responded"] or tr("not_released"), fmt_hours(o["late_hours"]), o["expert"] or tr("none")]
            for o in d.get("overdue", [])]
    return head, body


def expert_tables(report: Report) -> list[tuple[str, list[str], list[list]]]:
    d = report.section("experts").data
    out = []
    if d.get("per_expert"):
        head = [tr(k) for k in ("col.expert", "col.unit", "col.assignments", "col.declined", "col.published",
                                "col.median")]
        out.append((tr("experts.per_expert"), head,
                    [[r["expert"], r["unit"], r["assignments"], r["declined"], r["published"],
                      fmt_hours(r["median_hours"])] for r in d["per_expert"]]))
    if d.get("per_unit"):
        head = [tr(k) for k in ("col.unit", "col.assignments", "col.declined", "col.published", "col.median")]
        out.append((tr("experts.per_unit"), head,
                    [[r["unit"], r["assignments"], r["declined"], r["published"], fmt_hours(r["median_hours"])]
                     for r in d["per_unit"]]))
    if d.get("effects"):
        head = [tr(k) for k in ("col.clarification", "col.expert", "col.published_at", "col.effect_window",
                                "col.effect_items", "col.effect_reactions", "col.effect")]

        def flow(e, key):
            return "—" if e["before"] is None else f"{e['before'][key]} → {e['after'][key]}"

        out.append((tr("experts.effects"), head,
                    [[e["title"], e["expert"] or "—", china_time(e["published_at"]),
                      "—" if e["before"] is None else fmt_hours(e["window_hours"]), flow(e, "items"),
                      flow(e, "reactions"), e["text"]] for e in d["effects"]]))
    return out


def units_table(report: Report) -> tuple[list[str], list[list]]:
    """The ranked units; a quarter or a year adds each unit's months that met the monthly minimum
    (of those ended) and the months that did not."""
    d = report.section("units").data
    judged = d.get("judged_months")
    keys = ["col.rank", "col.unit", "col.handled", "col.on_time_rate", "col.reported",
            "col.adopted", "col.unit_published", "col.counted", "col.minimum"]
    if judged is not None:
        keys += ["col.months_met", "col.short_months"]
    head = [tr(k) for k in [*keys, "col.flag"]]
    body = []
    for r in d.get("rows", []):
        row = [r["rank"], r["unit"], r["handled"],
               fmt_pct(r["on_time_rate"]), r["reported"], r["adopted"], r["clarifications"], r["counted"],
               r["minimum"]]
        if judged is not None:
            row += [f"{r['months_met']}/{len(judged)}" if judged else tr("none"),
                    "、".join(f"{int(m[5:])} 月" for m in r["short_months"]) or tr("none")]
        flag = "flag.below" if r["below_minimum"] else "flag.ok" if judged is None or judged else "flag.unjudged"
        body.append([*row, tr(flag)])
    return head, body


def publishers_table(report: Report) -> tuple[list[str], list[list]]:
    d = report.section("publishers").data
    head = [tr(k) for k in ("col.platform", "col.account", "col.confirmed", "col.reach")]
    return head, [[a["platform"], a["account"], a["confirmed"], fmt_int(a["reach"])] for a in d.get("added", [])]


def watch_table(report: Report) -> tuple[list[str], list[list]]:
    """Per watched line: its kind, itself, this period's items, flagged, opinion shares, the period
    before's items and the change."""
    prev = tr(f"prev.{report.kind}")
    head = [tr("col.kind"), tr("col.watched"), tr("col.items"), tr("col.flagged"), tr("col.opinion"),
            tr("col.prev_items", prev=prev), tr("col.change")]
    rows = []
    for r in report.section("watch").data.get("rows", []):
        p = r["polarity"]
        judged = p["positive"] + p["neutral"] + p["negative"]
        shares = " / ".join(fmt_pct(percent(p[k], judged)) for k in ("positive", "neutral", "negative")) \
            if judged else tr("none")
        rows.append([tr(f"kind.{r['kind']}"), r["value"], fmt_int(r["items"]), fmt_int(r["flagged"]), shares,
                     fmt_int(r["previous"]), _change_text(r["items"], r["previous"])])
    return head, rows


def _polarity_table(first: str, rows: list[dict], label: str) -> tuple[list[str], list[list]]:
    """Rows of polarity counts as a table: `first` names the column of each row's `label`."""
    head = [tr(first), tr("polarity.neutral"), tr("polarity.positive"), tr("polarity.negative"),
            tr("col.total"), tr("col.unscored")]
    return head, [[r[label], r["neutral"], r["positive"], r["negative"], r["neutral"] + r["positive"] + r["negative"],
                   r["unscored"]] for r in rows]


def daily_table(report: Report) -> tuple[list[str], list[list]]:
    return _polarity_table("col.day", report.section("volume").data["daily"], "day")


def _summed(days: list[dict], key) -> list[dict]:
    """Days' polarity counts added up per `key(day)` ("2026-10", a week's first day …), in order."""
    out: dict[str, dict] = {}
    for d in days:
        row = out.setdefault(key(d["day"]), {"label": key(d["day"]), "neutral": 0, "positive": 0, "negative": 0,
                                             "unscored": 0})
        for p in (*POLARITIES, "unscored"):
            row[p] += d[p]
    return list(out.values())


def monthly_rows(report: Report) -> list[dict]:
    """A quarter's or a year's health items per month by polarity, from its days."""
    return _summed(report.section("volume").data["daily"], lambda day: day[:7])


def weekly_rows(report: Report) -> list[dict]:
    """A quarter's health items per week (Monday to Sunday; the first and last week cut at the
    quarter's ends), labelled by each week's first day in the quarter."""
    days = report.section("volume").data["daily"]

    def monday(day: str) -> date:
        d = date.fromisoformat(day)
        return d - timedelta(days=d.weekday())

    first: dict[date, str] = {}
    for d in days:
        first.setdefault(monday(d["day"]), d["day"])
    return _summed(days, lambda day: first[monday(day)])


def months_table(report: Report) -> tuple[list[str], list[list]]:
    """The month-by-month figures of a quarter or a year (the annual summaries' line, per month)."""
    return _polarity_table("col.month", monthly_rows(report), "label")


ACCOUNT_PRINTED = 8  # characters of a long account id printed in the HTML/PDF tables


def short_account(account) -> str:
    """A long account id (platforms' 32-character hashes) cut to its first characters for the printed
    tables, so the 内容 column keeps its width; account names of ordinary length stay whole."""
    text = str(account)
    return text if len(text) <= ACCOUNT_PRINTED + 4 else text[:ACCOUNT_PRINTED] + "…"


def clip(text, n: int) -> str:
    flat = " ".join(str(text or "").split())
    return flat if len(flat) <= n else flat[: n - 1] + "…"


# --- charts ---------------------------------------------------------------------------------

def matplotlib_pyplot():
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import font_manager, pyplot

    if Path(CJK_FONT_FILE).exists() and CJK_FONT_FAMILY not in {f.name for f in font_manager.fontManager.ttflist}:
        font_manager.fontManager.addfont(CJK_FONT_FILE)
    pyplot.rcParams["font.sans-serif"] = [CJK_FONT_FAMILY, "Noto Sans CJK JP", "WenQuanYi Zen Hei", "DejaVu Sans"]
    pyplot.rcParams["font.family"] = "sans-serif"
    pyplot.rcParams["axes.unicode_minus"] = False
    return pyplot


POLARITY_COLOURS = {"neutral": "#90a4ae", "positive": "#2e7d32", "negative": "#c62828"}


CHART_TITLES = {"daily": "volume.chart.hourly", "quarterly": "volume.chart.weekly", "annual": "volume.chart.monthly"}


def chart_title(report: Report) -> str:
    return tr(CHART_TITLES.get(report.kind, "volume.chart"))


def chart_bars(report: Report) -> tuple[list[str], list[dict]]:
    """The volume chart's bars and their labels: an hour each for a day, a day for a week or a
    month, a week for a quarter, a month for a year."""
    data = report.section("volume").data
    if report.kind == "daily":
        bars = data.get("hourly") or []  # a daily report made before the hourly figures were kept: none
        return [str(d["hour"]) for d in bars], bars
    if report.kind == "quarterly":
        bars = weekly_rows(report)
        return [b["label"][5:] for b in bars], bars
    if report.kind == "annual":
        bars = monthly_rows(report)
        return [f"{int(b['label'][5:])}月" for b in bars], bars
    return [d["day"][5:] for d in data["daily"]], data["daily"]


def daily_chart_png(report: Report) -> bytes | None:
    """Stacked bars of health-related items by polarity, Chinese labels (`chart_bars`); None when
    empty (and for a daily report made before the hourly figures were kept)."""
    days, bars = chart_bars(report)
    if not bars or not any(d["neutral"] + d["positive"] + d["negative"] for d in bars):
        return None
    plt = matplotlib_pyplot()
    fig, ax = plt.subplots(figsize=(8, 3.2), dpi=150)
    daily = bars
    bottom = [0] * len(daily)
    for p in POLARITIES:
        values = [d[p] for d in daily]
        ax.bar(days, values, bottom=bottom, color=POLARITY_COLOURS[p], label=tr(f"polarity.{p}"), width=0.7)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.yaxis.set_major_locator(integer_ticks())
    ax.set_title(chart_title(report), fontsize=11)
    ax.set_ylabel("条数")
    ax.spines[["top", "right"]].set_visible(False)
    # Right of the plot: inside it, the legend covered the last day's bar.
    ax.legend(frameon=False, fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)
    if report.kind == "daily":
        ax.set_xlabel("时", fontsize=8)
        ax.tick_params(axis="x", labelsize=7)
    elif len(days) > 10:
        ax.tick_params(axis="x", labelrotation=60, labelsize=7)
    fig.tight_layout()
    return png_bytes(fig, plt)


def units_chart_png(report: Report) -> bytes | None:
    """Information reported per unit (submissions and clarifications) against the monthly minimum
    (monthly notice), or for a quarter or a year the period's, red for a unit below the minimum in a
    month; None when no units."""
    if report.kind not in LONG_KINDS:
        return None
    s = report.section("units")
    rows = s.data.get("rows") or []
    if not s.available or not rows:
        return None
    plt = matplotlib_pyplot()
    rows = rows[:20]
    fig, ax = plt.subplots(figsize=(8, 0.35 * len(rows) + 1.2), dpi=150)
    names = [clip(r["unit"], 14) for r in rows][::-1]
    values = [r["counted"] for r in rows][::-1]
    colours = ["#c62828" if r["below_minimum"] else "#1565c0" for r in rows][::-1]
    ax.barh(names, values, color=colours)
    ax.xaxis.set_major_locator(integer_ticks())
    if report.kind == "monthly":
        ax.axvline(s.data["minimum"], color="#555", linestyle="--", linewidth=1)
        ax.set_title(f"各单位本月合计报送信息（虚线：最低要求 {s.data['minimum']} 条，红色：未达标）", fontsize=10)
    else:
        ax.set_title(f"各单位{tr('this.' + report.kind)}合计报送信息（红色：有月份未达到每月最低要求）", fontsize=10)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    return png_bytes(fig, plt)


def integer_ticks():
    from matplotlib.ticker import MaxNLocator

    return MaxNLocator(integer=True)


def png_bytes(fig, plt) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


# --- Markdown -------------------------------------------------------------------------------

# Inside a line (table cells, list items) only these characters can start markup; dates and
# decimals stay readable.
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]|<>~$&])")


def md_escape(text) -> str:
    """Scraped text is escaped so it renders as the characters it is, never as markup."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _md_cell(value) -> str:
    if isinstance(value, tuple):
        label, url = value
        return f"[{md_escape(label)}](<{url}>)" if url else tr("none")
    return md_escape(value)


def md_table(head, rows) -> list[str]:
    out = ["| " + " | ".join(md_escape(h) for h in head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in rows]
    return out + [""]


def sections(report: Report, printed: bool = False) -> list[tuple[str, list[tuple]]]:
    """The report's sections, each its title and its blocks, from which the Markdown and Word
    documents are written (the HTML page, and the PDF printed from it, is its own template and shows
    the same). A block is ("lead", line), ("lines", [line]), ("empty", note), ("para", line),
    ("heading", title), ("chart", png, title) or ("table", title or None, head, rows, marked row
    indexes). `printed`: as on paper — the charts drawn and long account ids cut, as in the HTML."""
    account = short_account if printed else (lambda a: a)
    parts = []
    for s in report.sections:
        blocks: list[tuple] = []
        if s.key in ("alerts", "experts", "watch", "model", "units") and (not s.available or s.message) \
                or s.key in ("publishers", "risk") and not s.available:
            blocks.append(("empty", s.message))
            if s.key == "alerts" and (held := press_lines(report)):  # conferences in a period without alerts
                blocks.append(("lines", held))
            if s.key == "experts" and (held := expert_training_lines(report)):  # trainings in a period without tasks
                blocks.append(("lines", held))
        elif s.key == "volume":
            lines = volume_lines(report)
            blocks += [("lead", lines[0]), ("lines", lines[1:])]
            if printed and (png := daily_chart_png(report)):
                blocks.append(("chart", png, chart_title(report)))
            if s.message:
                blocks.append(("empty", s.message))
            elif report.kind == "weekly":
                blocks.append(("table", None, *daily_table(report), ()))
            elif report.kind in ("quarterly", "annual"):
                blocks.append(("table", None, *months_table(report), ()))
        elif s.key == "topics":
            if s.message:
                blocks.append(("empty", s.message))
            else:
                blocks += [("lines", topics_lines(report)), ("table", None, *topics_table(report), ())]
                if tags := tags_table(report):
                    blocks.append(("table", *tags, ()))
        elif s.key == "rumours":
            if s.message:
                blocks.append(("empty", s.message))
            else:
                head, rows = rumour_table(report)
                blocks.append(("table", None, head, [[*r[:3], account(r[3]), *r[4:]] for r in rows], ()))
            if s.data.get("workflow_note"):
                blocks.append(("empty", s.data["workflow_note"]))
        elif s.key == "alerts":
            blocks.append(("lines", alerts_lines(report)))
            if s.data["overdue"]:
                blocks.append(("table", tr("alerts.overdue"), *overdue_table(report), ()))
            else:
                blocks += [("heading", tr("alerts.overdue")), ("para", tr("alerts.overdue.none"))]
        elif s.key == "experts":
            blocks.append(("lines", experts_lines(report)))
            blocks += [("table", title, head, rows, ()) for title, head, rows in expert_tables(report)]
        elif s.key == "publishers":
            blocks.append(("lines", publishers_lines(report)))
            if s.data.get("added"):
                head, rows = publishers_table(report)
                blocks.append(("table", None, head, [[r[0], account(r[1]), *r[2:]] for r in rows], ()))
        elif s.key == "watch":
            blocks += [("lines", watch_lines(report)), ("table", None, *watch_table(report), ())]
        elif s.key == "risk":
            blocks.append(("lines", risk_lines(report)))
            blocks += [("table", title, head, rows, ()) for title, head, rows in risk_tables(report)]
        elif s.key == "model":
            blocks.append(("lines", model_lines(report)))
        elif s.key == "units":
            blocks.append(("lines", units_lines(report)))
            if printed and (png := units_chart_png(report)):
                blocks.append(("chart", png, s.title))
            if rows := s.data.get("rows"):
                marked = tuple(i for i, r in enumerate(rows) if r["below_minimum"])
                blocks.append(("table", None, *units_table(report), marked))
        parts.append((s.title, blocks))
    return parts


def markdown_blocks(blocks: list[tuple]) -> list[str]:
    """Markdown lines of a section's blocks (see `sections`); every data string escaped, charts left out."""
    out = []
    for block in blocks:
        kind = block[0]
        if kind == "lead":
            out += [f"**{md_escape(block[1])}**", ""]
        elif kind == "lines":
            out += [f"- {md_escape(line)}" for line in block[1] if line] + [""]
        elif kind == "para":
            out += [md_escape(block[1]), ""]
        elif kind == "heading":
            out += [f"### {md_escape(block[1])}", ""]
        elif kind in ("empty", "quote"):
            out += [f"> {md_escape(line)}" for line in str(block[1]).splitlines() if line.strip()] + [""]
        elif kind == "table":
            out += ([f"### {md_escape(block[1])}", ""] if block[1] else []) + md_table(block[2], block[3])
    return out


def markdown_document(title: str, subtitle: str, notes: list[str], parts: list[tuple[str, list[tuple]]],
                      footer: str) -> str:
    """A report or a special report as Markdown: its title, the period or subject in bold, the notes
    (when it was made, its scope) and the sections' blocks."""
    out = [f"# {md_escape(title)}", "", f"**{md_escape(subtitle)}**", ""]
    out += [f"> {md_escape(line)}" for line in notes] + [""]
    for name, blocks in parts:
        out += [f"## {md_escape(name)}", "", *markdown_blocks(blocks)]
    return "\n".join([*out, "---", footer, ""])


def render_markdown(report: Report) -> str:
    return markdown_document(report.title, period_text(report), [generated_text(report), *report.scope],
                             sections(report), tr("footer"))


# --- HTML -----------------------------------------------------------------------------------

# One house style for every printed document (the weekly and monthly reports, the special report).
REPORT_CSS = """@page { size: A4; margin: 14mm 14mm 16mm 14mm; }
* { box-sizing: border-box; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif;
       color: #1f2933; font-size: 10.5pt; line-height: 1.6; margin: 0 auto; max-width: 190mm; padding: 0 4mm; }
header { border-bottom: 3px solid #b71c1c; padding-bottom: 6px; margin-bottom: 10px; }
h1 { font-size: 19pt; margin: 8px 0 2px; color: #b71c1c; letter-spacing: 1px; }
.period { font-size: 12pt; font-weight: 700; }
.meta { color: #616e7c; font-size: 9pt; }
h2 { font-size: 13pt; border-left: 4px solid #b71c1c; padding-left: 8px; margin: 18px 0 6px; page-break-after: avoid; }
h3 { font-size: 11pt; margin: 10px 0 4px; page-break-after: avoid; }
.opinion { font-size: 13pt; font-weight: 700; background: #fdf3f2; border: 1px solid #f3c9c4;
           padding: 8px 12px; border-radius: 4px; margin: 6px 0; }
.empty { color: #7b8794; background: #f5f7fa; border: 1px dashed #cbd2d9; padding: 6px 10px; border-radius: 4px; }
ul { margin: 4px 0 6px; padding-left: 20px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 10px; font-size: 9pt; page-break-inside: auto; }
tr { page-break-inside: avoid; }
th, td { border: 1px solid #d9e2ec; padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: #eef2f7; font-weight: 700; white-space: nowrap; }
td.nowrap { white-space: nowrap; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.below td { background: #fdecea; }
.status-overdue { color: #b71c1c; font-weight: 700; }
.status-clarified { color: #2e7d32; font-weight: 700; }
img.chart { width: 100%; max-width: 170mm; display: block; margin: 6px auto; }
a { color: #1565c0; text-decoration: none; }
footer { margin-top: 18px; border-top: 1px solid #d9e2ec; color: #7b8794; font-size: 8.5pt; padding-top: 6px; }
"""

HTML_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ r.title }} {{ r.period.label }}</title>
<style>
{{ css }}</style></head>
<body>
<header>
  <h1>{{ r.title }}</h1>
  <div class="period">{{ period }}</div>
  <div class="meta">{{ generated }}</div>
  {% for line in r.scope %}<div class="meta">{{ line }}</div>{% endfor %}
</header>
{% macro table(head, rows, row_class=None) -%}
<table><thead><tr>{% for h in head %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
{% for row in rows %}<tr{% if row_class and row_class(loop.index0) %} class="{{ row_class(loop.index0) }}"{% endif %}>
{% for c in row %}{% if c is link %}<td>{% if c[1] %}<a href="{{ c[1] }}">{{ c[0] }}</a>{% else %}—{% endif %}</td>
{% else %}<td{% if c is numeric %} class="num"{% endif %}>{{ c }}</td>{% endif %}{% endfor %}</tr>
{% endfor %}</tbody></table>
{%- endmacro %}
{% for s in r.sections %}
<section id="{{ s.key }}">
<h2>{{ s.title }}</h2>
{% if s.key == "volume" %}
  <div class="opinion">{{ volume[0] }}</div>
  {% if s.message %}<p class="empty">{{ s.message }}</p>{% endif %}
  <ul>{% for line in volume[1:] %}<li>{{ line }}</li>{% endfor %}</ul>
  {% if daily_chart %}<img class="chart" alt="{{ chart_alt }}" src="data:image/png;base64,{{ daily_chart }}">{% endif %}
  {% if r.kind == "weekly" and not s.message %}{{ table(daily[0], daily[1]) }}{% endif %}
  {% if r.kind in ("quarterly", "annual") and not s.message %}{{ table(months[0], months[1]) }}{% endif %}
{% elif s.key == "topics" %}
  {% if s.message %}<p class="empty">{{ s.message }}</p>{% else %}
  <ul>{% for line in topics %}<li>{{ line }}</li>{% endfor %}</ul>
  {{ table(topics_table[0], topics_table[1]) }}
  {% if tags_table %}<h3>{{ tags_table[0] }}</h3>{{ table(tags_table[1], tags_table[2]) }}{% endif %}
  {% endif %}
{% elif s.key == "rumours" %}
  {% if s.message %}<p class="empty">{{ s.message }}</p>{% else %}
  <table><thead><tr>{% for h in rumours[0] %}<th>{{ h }}</th>{% endfor %}</tr></thead><tbody>
  {% for row in rumours[1] %}<tr>
    <td class="num">{{ row[0] }}</td><td>{{ row[1] }}</td><td>{{ row[2] }}</td>
    <td class="nowrap" title="{{ row[3] }}">{{ row[3] | account }}</td>
    <td class="num">{{ row[4] }}</td><td class="num">{{ row[5] }}</td><td class="num">{{ row[6] }}</td>
    <td class="nowrap status-{{ s.data.rows[loop.index0].status }}">{{ row[7] }}</td>
    <td class="nowrap">{% if row[8][1] %}<a href="{{ row[8][1] }}">{{ row[8][0] }}</a>{% else %}—{% endif %}</td>
  </tr>{% endfor %}</tbody></table>{% endif %}
  {% if s.data.workflow_note %}<p class="empty">{{ s.data.workflow_note }}</p>{% endif %}
{% elif s.key == "alerts" %}
  {% if not s.available or s.message %}<p class="empty">{{ s.message }}</p>
  {% if press %}<ul>{% for line in press %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}{% else %}
  <ul>{% for line in alerts %}<li>{{ line }}</li>{% endfor %}</ul>
  <h3>{{ t("alerts.overdue") }}</h3>
  {% if s.data.overdue %}{{ table(overdue[0], overdue[1]) }}{% else %}<p>{{ t("alerts.overdue.none") }}</p>{% endif %}
  {% endif %}
{% elif s.key == "experts" %}
  {% if not s.available or s.message %}<p class="empty">{{ s.message }}</p>
  {% if expert_trainings %}<ul>{% for line in expert_trainings %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}{% else %}
  <ul>{% for line in experts %}<li>{{ line }}</li>{% endfor %}</ul>
  {% for title, head, rows in expert_tables %}<h3>{{ title }}</h3>{{ table(head, rows) }}{% endfor %}
  {% endif %}
{% elif s.key == "publishers" %}
  {% if not s.available %}<p class="empty">{{ s.message }}</p>{% else %}
  <ul>{% for line in publishers %}<li>{{ line }}</li>{% endfor %}</ul>
  {% if s.data.added %}{{ table(publishers_table[0], publishers_table[1]) }}{% endif %}
  {% endif %}
{% elif s.key == "watch" %}
  {% if not s.available or s.message %}<p class="empty">{{ s.message }}</p>{% else %}
  <ul>{% for line in watch %}<li>{{ line }}</li>{% endfor %}</ul>
  {{ table(watch_table[0], watch_table[1]) }}
  {% endif %}
{% elif s.key == "risk" %}
  {% if not s.available %}<p class="empty">{{ s.message }}</p>{% else %}
  <ul>{% for line in risk %}<li>{{ line }}</li>{% endfor %}</ul>
  {% for title, head, rows in risk_tables %}<h3>{{ title }}</h3>{{ table(head, rows) }}{% endfor %}
  {% endif %}
{% elif s.key == "model" %}
  {% if not s.available or s.message %}<p class="empty">{{ s.message }}</p>{% else %}
  <ul>{% for line in model %}<li>{{ line }}</li>{% endfor %}</ul>{% endif %}
{% elif s.key == "units" %}
  {% if not s.available or s.message %}<p class="empty">{{ s.message }}</p>{% else %}
  <ul>{% for line in units %}<li>{{ line }}</li>{% endfor %}</ul>
  {% if units_chart %}<img class="chart" alt="units" src="data:image/png;base64,{{ units_chart }}">{% endif %}
  {{ table(units_table[0], units_table[1], row_class=units_row_class) }}
  {% endif %}
{% endif %}
</section>
{% endfor %}
<footer>{{ t("footer") }}</footer>
</body></html>
"""


_NUMERIC = re.compile(r"^[+\-]?[\d,]+(\.\d+)?(%| 小时)?$")


def is_numeric(value) -> bool:
    """Right-align counts, percentages and durations (the HTML page's and the Word file's tables)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, (int, float)) or (isinstance(value, str) and bool(_NUMERIC.match(value)))


def render_html(report: Report, charts: bool = True) -> str:
    """One self-contained HTML page: inline CSS, charts as base64 PNG, every data string escaped."""
    from jinja2 import Environment
    from markupsafe import Markup

    env = Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    env.tests["link"] = lambda v: isinstance(v, tuple)
    env.tests["numeric"] = is_numeric
    env.filters["account"] = short_account
    template = env.from_string(HTML_TEMPLATE)

    def b64(png):
        return base64.b64encode(png).decode("ascii") if png else None

    long = report.kind in LONG_KINDS
    units_rows = report.section("units").data.get("rows", []) if long else []
    publishers_head, publishers_rows = publishers_table(report)
    publishers_rows = [[row[0], short_account(row[1]), *row[2:]] for row in publishers_rows]
    context = {
        "r": report, "t": tr, "css": Markup(REPORT_CSS), "period": period_text(report), "generated": generated_text(report),
        "volume": volume_lines(report), "daily": daily_table(report), "months": months_table(report),
        "daily_chart": b64(daily_chart_png(report)) if charts else None, "chart_alt": chart_title(report),
        "rumours": rumour_table(report), "alerts": alerts_lines(report) if report.section("alerts").available else [],
        "overdue": overdue_table(report), "experts": experts_lines(report), "expert_tables": expert_tables(report),
        "publishers": publishers_lines(report), "publishers_table": (publishers_head, publishers_rows),
        "model": model_lines(report), "watch": watch_lines(report), "watch_table": watch_table(report),
        "press": press_lines(report), "expert_trainings": expert_training_lines(report),
    }
    if any(s.key == "topics" for s in report.sections):  # not in reports saved before
        context.update(topics=topics_lines(report), topics_table=topics_table(report), tags_table=tags_table(report))
    if long and any(s.key == "risk" for s in report.sections):  # not in notices saved before
        context.update(risk=risk_lines(report), risk_tables=risk_tables(report))
    if long:
        context.update(units=units_lines(report), units_table=units_table(report),
                       units_chart=b64(units_chart_png(report)) if charts else None,
                       units_row_class=lambda i: "below" if units_rows[i]["below_minimum"] else None)
    return template.render(**context)


# --- PDF ------------------------------------------------------------------------------------
# Route: headless Chromium prints the same self-contained HTML. Chosen because the PDF then is the
# HTML (one template, identical figures), Chromium shapes CJK text correctly with the system's
# Noto CJK fonts through fontconfig and embeds them, it is a Debian package (no network at run
# time: every network feature is switched off below), and the browser tests need it anyway.

# The report is one local file with everything inline, so Chromium needs no network at all. Without
# the resolver rule it still looked up clients2.google.com (checked with strace); with it, no DNS
# query and no connection leaves the machine, and printing is faster.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                  "--no-first-run", "--no-default-browser-check", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-extensions", "--disable-default-apps",
                  "--disable-client-side-phishing-detection", "--disable-domain-reliability", "--disable-breakpad",
                  ("--disable-features=OptimizationHints,MediaRouter,Translate,AutofillServerCommunication,"
                   "DialMediaRouteProvider"),
                  "--host-resolver-rules=MAP * ~NOTFOUND", "--mute-audio", "--no-pdf-header-footer",
                  "--run-all-compositor-stages-before-draw")


def find_chromium() -> str | None:
    explicit = os.environ.get("RUMOURWATCH_CHROMIUM")
    if explicit:
        return explicit if Path(explicit).exists() else None
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def html_to_pdf(html: str, output: str | Path) -> Path:
    """Print an HTML page to PDF with headless Chromium (no network)."""
    chromium = find_chromium()
    if not chromium:
        raise ReportError("PDF output needs Chromium: install the Debian package `chromium` "
                          "(or set RUMOURWATCH_CHROMIUM to its path); HTML and Markdown work without it",
                          "report_no_chromium")
    output = Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rw-report-") as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        target = Path(tmp) / "report.pdf"
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp}/profile", f"--print-to-pdf={target}",
               page.as_uri()]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=CHROMIUM_TIMEOUT_SECONDS,
                                  check=False)
        except subprocess.TimeoutExpired:
            raise ReportError(f"Chromium did not finish printing the PDF within {CHROMIUM_TIMEOUT_SECONDS} s",
                              "report_pdf_timeout", seconds=CHROMIUM_TIMEOUT_SECONDS) from None
        except OSError as exc:
            raise ReportError(f"Chromium could not be started ({chromium}): {exc}", "report_pdf_failed") from exc
        if not target.exists() or target.stat().st_size == 0:
            detail = (proc.stderr or "").strip().splitlines()[-1:] or ["no output"]
            raise ReportError(f"Chromium did not write the PDF (exit {proc.returncode}): {detail[0]}",
                              "report_pdf_failed")
        shutil.move(str(target), output)
    return output


def render_pdf(report: Report, output: str | Path) -> Path:
    return html_to_pdf(render_html(report), output)


def write_document(fmt: str, output: str | Path, html, markdown, docx) -> Path:
    """Write a document in `fmt` (html, pdf, docx, md) to `output`: `html()` saved, or printed to PDF
    by headless Chromium, `docx(output)` written, or `markdown()` saved. The reports and the special
    report (briefing.py) share it."""
    if fmt not in FORMATS:
        raise ReportError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", "report_bad_format",
                          value=fmt)
    output = Path(output)
    if fmt == "pdf":
        return html_to_pdf(html(), output)
    if fmt == "docx":
        return docx(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(html() if fmt == "html" else markdown(), encoding="utf-8")
    return output


def document_bytes(render, fmt: str) -> bytes:
    """The bytes of the document `render(fmt, path)` writes (a report's or a special report's
    `render`), through a temporary file: what a download or a cached page serves."""
    with tempfile.TemporaryDirectory(prefix="rw-document-") as tmp:
        return render(fmt, Path(tmp) / f"document.{fmt}").read_bytes()


def render_docx(report: Report, output: str | Path) -> Path:
    """The report as a Word document for the office to edit and issue (`wordfile`: 公文 layout)."""
    from .wordfile import write_docx

    return write_docx(output, report.title, period_text(report), [generated_text(report), *report.scope],
                      sections(report, printed=True), tr("footer"), parse_time(report.generated_at))


def render(report: Report, fmt: str, output: str | Path) -> Path:
    """Write the report in `fmt` (html, pdf, docx, md) to `output`."""
    return write_document(fmt, output, lambda: render_html(report), lambda: render_markdown(report),
                          lambda out: render_docx(report, out))


def default_filename(report: Report, fmt: str) -> str:
    kind = {"daily": "日报", "weekly": "周报", "quarterly": "季度报告", "annual": "年度报告"}.get(report.kind, "月通报")
    parts = [report.period.label, kind] + [v for v in (report.filters.get("region"), report.filters.get("platform")) if v]
    safe = re.sub(r"[^\w\-]+", "_", "_".join(parts))
    return f"{safe}.{fmt}"


# --- units ----------------------------------------------------------------------------------

UNIT_FIELDS = ("code", "name", "kind", "region", "monthly_minimum")


def read_units_csv(path: str | Path, max_mb: float = MAX_MB) -> tuple[list[dict], list[str]]:
    """Units from a CSV (code,name,kind,region[,monthly_minimum][,active][,email]); bad rows come back
    as messages with their line number, never dropped silently. `email`: the unit's mailbox, where
    the alerts referred to it are mailed (rumourwatch.referrals)."""
    path = Path(path)
    if not path.is_file():
        raise ReportError(f"unit file {path} does not exist", "report_no_units", path=str(path))
    reader = csv_reader(check_upload(str(path), path.read_bytes(), max_mb=max_mb).text)
    missing = [c for c in ("code", "name", "kind") if c not in (reader.fieldnames or [])]
    if missing:
        raise ReportError(f"unit file {path} lacks column(s) {', '.join(missing)}; "
                          f"expected header code,name,kind,region,monthly_minimum", "report_units_header",
                          path=str(path), missing="、".join(missing))
    rows, errors, seen = [], [], set()
    for line, raw in enumerate(reader, 2):
        code, name, kind = ((raw.get(k) or "").strip() for k in ("code", "name", "kind"))
        if not code or not name or not kind:
            errors.append(f"line {line}: code, name and kind are required")
            continue
        if code in seen:
            errors.append(f"line {line}: code {code!r} appears twice")
            continue
        minimum = (raw.get("monthly_minimum") or "").strip()
        if minimum and not minimum.isdigit():
            errors.append(f"line {line}: monthly_minimum must be a whole number, got {minimum!r}")
            continue
        active = (raw.get("active") or "1").strip().lower() not in ("0", "false", "no", "否")
        email = (raw.get("email") or "").strip() or None
        if email and not re.fullmatch(r"[^@\s,;]+@[^@\s,;]+\.[^@\s,;]+", email):
            errors.append(f"line {line}: email {email!r} is not one mail address")
            continue
        seen.add(code)
        rows.append({"code": code, "name": name, "kind": kind, "region": (raw.get("region") or "").strip() or None,
                     "monthly_minimum": int(minimum) if minimum else None, "active": int(active), "email": email})
    return rows, errors


def import_units(db, path: str | Path, now: datetime | None = None,
                 max_mb: float = MAX_MB) -> tuple[int, list[str]]:
    """Upsert the units of a CSV by code. Returns (units written, messages for rows set aside)."""
    rows, errors = read_units_csv(path, max_mb)
    code_of = {u["name"]: u["code"] for u in store.list_units(db, active_only=False)}
    kept = []
    for r in rows:
        if code_of.get(r["name"], r["code"]) != r["code"]:
            errors.append(f"unit {r['name']!r} (code {r['code']}): that name is already used by unit "
                          f"{code_of[r['name']]}; keep one code per unit")
        else:
            kept.append(r)
    rows = kept
    with store.transaction(db):
        n = store.upsert_units(db, rows, iso(now or datetime.now(UTC)))
    return n, errors


# --- scheduled delivery ------------------------------------------------------------------------
# `rumourwatch report send --weekly` from cron: generate the last complete period, keep the files
# in a folder, and send them through the workflow's notification channels (rumourwatch.notify:
# group-bot webhooks and SMTP, configured in the alert rules file) when that module is installed.
# A period already sent is not sent again (unless forced), so a cron job that runs twice sends once;
# a failed channel leaves the period unsent, so the next run retries it.

def summary_text(report: Report, files: list[Path]) -> tuple[str, str]:
    """Subject and a short plain-text body: the figures leaders read first, then the files."""
    subject = f"【{report.title}】{period_text(report)}"
    lines = [period_text(report), volume_lines(report)[0], *next_week_lines(report)]
    lines += [line for line in alerts_lines(report) if line]
    if report.kind in LONG_KINDS:
        lines += [line for line in units_lines(report) if line]
        lines += [s.data["summary"] for s in report.sections if s.key == "risk"]
    lines += [f"附件：{f.name}" for f in files]
    return subject, "\n".join(lines)


def unit_notice_text(report: Report, row: dict, total: int, files: list[Path]) -> tuple[str, str]:
    """The monthly notice as mailed to one unit (通报 is circulated to the units it ranks): subject and
    body, the unit's own standing first (its units-section `row` of `total` units ranked), then the
    figures every reader gets (`summary_text`)."""
    subject, body = summary_text(report, files)
    flag = tr("flag.below") if row["below_minimum"] else tr("flag.ok")
    own = tr("units.own", unit=row["unit"], counted=row["counted"], reported=row["reported"], adopted=row["adopted"],
             clarifications=row["clarifications"], minimum=row["minimum"], flag=flag, total=total, rank=row["rank"])
    risk = next((s for s in report.sections if s.key == "risk" and s.available), None)
    ahead = (risk.data.get("health_days") or {}).get("next") if risk else None
    if ahead:  # the next month's health days: a unit's 健康科普 pieces around them count as any
        own += "\n" + tr("units.days", days=days_text(ahead))
    return f"{subject} · {row['unit']}", f"{own}\n\n{body}"


def _unit_notices(db, report: Report, region: str | None, files: list[Path]) -> list[tuple[dict, tuple[str, str]]]:
    """(unit, its mail's subject and body) for each active unit with a mailbox that the monthly
    notice ranks."""
    section = report.section("units")
    rows = {r["unit"]: r for r in section.data.get("rows", [])} if section.available else {}
    return [(u, unit_notice_text(report, rows[u["name"]], len(rows), files))
            for u in store.list_units(db, region=region) if (u.get("email") or "").strip() and u["name"] in rows]


def _notify_config(rules_file) -> dict | None:
    """The notification channel settings from the alert rules, or None without the workflow."""
    try:
        from . import alerts, notify  # noqa: F401  (the workflow's modules; optional)
    except ImportError:
        return None
    return alerts.load_rules(rules_file)["notify"]


def send_report(db, kind: str, *, out_dir: str | Path, now: datetime | None = None, label: str | None = None,
                formats: tuple[str, ...] = ("pdf", "docx", "html"), region: str | None = None,
                platform: str | None = None, to: tuple[str, ...] = (), webhooks: tuple[str, ...] = (),
                rules_file=None, force: bool = False, threshold: float = 0.5,
                minimum: int = DEFAULT_UNIT_MONTHLY_MINIMUM, quiet_hours: float = QUIET_HOURS,
                units: bool = True) -> dict:
    """Generate a report (the last complete period unless `label`), write it to `out_dir`, deliver it.
    The monthly notice also goes to each unit it ranks that has a mailbox (`units`; units.email),
    with the unit's own standing first and the PDF attached (the Word file is the office's to edit).

    Returns {"period", "files", "channels": [{channel, target, ok, detail}], "skipped"}; raises
    ReportError when a channel failed (after logging it), so cron reports the failure.
    """
    now = now or datetime.now(UTC)
    for fmt in formats:
        if fmt not in FORMATS:
            raise ReportError(f"unknown format {fmt!r}; expected one of {', '.join(FORMATS)}", "report_bad_format",
                      value=fmt)
    period = parse_period(kind, label) if label else last_complete(kind, now)
    filters = _filters(region, platform)
    if not force and store.report_delivered(db, kind, period.label, filters):
        return {"period": period.label, "files": [], "channels": [], "skipped": True}
    report = compute(kind, db, period.label, region=region, platform=platform, threshold=threshold, now=now,
                     minimum=minimum, quiet_hours=quiet_hours, watch=_watch_rules(rules_file))
    out_dir = Path(out_dir)
    files = [render(report, fmt, out_dir / default_filename(report, fmt)) for fmt in formats]
    results = [{"channel": "folder", "target": str(out_dir), "ok": True, "detail": ", ".join(f.name for f in files)}]

    cfg = _notify_config(rules_file)
    if cfg is None:
        if to or webhooks:
            results.append({"channel": "notify", "target": "", "ok": False,
                            "detail": "the workflow's notification module (rumourwatch.notify) is not installed"})
    else:
        from .notify import send_on

        subject, body = summary_text(report, files)
        targets = [("webhook", h["url"], h.get("format", "markdown")) for h in cfg.get("webhooks", [])]
        targets += [("webhook", u, "markdown") for u in webhooks]
        targets += [("email", a, "markdown") for a in (list(to) or list(cfg.get("leader_emails", [])))]
        for channel, target, fmt in targets:
            ok, detail = send_on(cfg, channel, target, subject, body, fmt, files)
            results.append({"channel": channel, "target": target, "ok": ok, "detail": detail})
        if kind == "monthly" and units:
            attached = [f for f in files if f.suffix == ".pdf"] or files
            for unit, (unit_subject, unit_body) in _unit_notices(db, report, region, attached):
                ok, detail = send_on(cfg, "email", unit["email"], unit_subject, unit_body, "markdown", attached)
                results.append({"channel": "email", "target": f"{unit['email']}（{unit['name']}）", "ok": ok,
                                "detail": detail})

    ok = all(r["ok"] for r in results)
    with store.transaction(db):
        for r in results:
            store.log_report(db, kind, period.label, filters, ",".join(formats), str(out_dir), r["channel"],
                             "sent" if r["ok"] else "failed", f"{r['target']}: {r['detail']}", at=iso(now))
        store.log_report(db, kind, period.label, filters, ",".join(formats), str(out_dir), "all",
                         "sent" if ok else "failed", None, at=iso(now))
    outcome = {"period": period.label, "files": [str(f) for f in files], "channels": results, "skipped": False}
    if not ok:
        failed = "; ".join(f"{r['channel']} {r['target']}: {r['detail']}" for r in results if not r["ok"])
        raise ReportError(f"report {period.label} written to {out_dir} but not delivered everywhere: {failed}",
                          "report_undelivered", label=period.label)
    return outcome
