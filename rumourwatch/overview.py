"""领导概览: the leaders' page. Leaders want figures, trends and whether deadlines were met, not
feeds (DOMAIN): the last 12 weeks side by side — health items and the opinion line, likely rumours,
alerts, the share whose information went out within the 5-hour clock (seed 001), clarifications
published — each week counted exactly as its 周报 counts it (reports.period_figures); last week
against the week before in a few sentences; what is late right now; and the year so far in the
one line the commissions' annual summaries print (seed 004), which the annual report details.

Weeks are ISO weeks in Beijing time; the current one is counted so far and marked so.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from . import reports, store
from .exports import csv_text
from .handover import CLOCK_ZH, open_alerts
from .opinion import POLARITIES, opinion_line
from .records import CST, beijing, iso, parse_time

WEEKS = 12
CSV_HEADER = ("周次", "起始日", "截止日", "是否至今", "健康相关条目", "正面占比%", "中性占比%", "负面占比%",
              "疑似谣言", "预警", "一级", "二级", "三级", "5小时内发布信息%", "发布澄清稿")


def weekly_trend(db, now: datetime, weeks: int = WEEKS, threshold: float = 0.5) -> list[dict]:
    """The figures of the last `weeks` ISO weeks, oldest first, the current week (so far) last."""
    periods = [reports.current_period("weekly", now)]
    while len(periods) < weeks:
        periods.append(periods[-1].previous())
    return [dict(reports.period_figures(db, p, threshold), partial=p.end > iso(now)) for p in reversed(periods)]


def year_to_date(db, now: datetime) -> dict:
    """This China-time year's health items so far by polarity, as the annual report counts them:
    {"year", "first_day", "counts", "line"} (`line`: 共 N 条：中性 …%，…, or None with none)."""
    year = reports.current_period("annual", now)
    counts = store.polarity_counts(db, year.start, min(year.end, iso(now)), health_only=True)
    scored = {p: counts[p] for p in POLARITIES}
    return {"year": year.label, "first_day": year.first_day, "counts": scored,
            "line": opinion_line(scored) if sum(scored.values()) else None}


def late_now(db, now: datetime) -> dict:
    """The alerts open now: how many, how many at 一级, and the overdue ones, longest late first; and
    the units that have not reported back on an open alert referred to them (交办属地单位) in time,
    longest late first."""
    active = open_alerts(db, now)
    overdue = [dict(a, late_hours=round((now - parse_time(a["deadline"])).total_seconds() / 3600, 1))
               for a in active if a["overdue"]]
    overdue.sort(key=lambda o: -o["late_hours"])
    referrals = []
    if store.has_tables(db, "referrals"):
        from .referrals import state

        referrals = [dict(r, late_hours=round((now - parse_time(r["due_at"])).total_seconds() / 3600, 1))
                     for r in store.list_referrals(db, status="referred")
                     if state(r, now) == "overdue" and r["alert_status"] in store.WORKFLOW_OPEN_STATUSES]
        referrals.sort(key=lambda r: -r["late_hours"])
    return {"open": len(active), "top": sum(a["severity"] == "一级" for a in active), "overdue": overdue,
            "referrals": referrals}


DAYS_AHEAD = 14  # 领导概览 names the health observance days beginning this many days ahead


def this_month_rules(db, now: datetime, minimum: int = reports.DEFAULT_UNIT_MONTHLY_MINIMUM,
                     threshold: float = 0.5) -> dict:
    """The plans' standing duties as they stand now (Beijing): the units that reached their monthly
    minimum this month so far, as the monthly notice will count it (seed 002), the days left; the
    press conferences and the media activities held this month against their minimums (seed 004,
    press.MINIMUMS); this half-year's correspondents' training (seed 002); last month's notice: the
    units that fell short; the health observance days beginning in the next DAYS_AHEAD days
    (宣传节点, rumourwatch.healthdays) and the kept 事前研判 planned for them (rumourwatch.assessment);
    the office's own channels this month so far against as many days before, and the topics the
    public talked about that they left unanswered (政务新媒体, rumourwatch.ownmedia; None without
    channels)."""
    from . import assessment, healthdays, press, submissions, trainings

    month, today = submissions.current_month(now), now.astimezone(CST).date()
    units = store.list_units(db)
    months = submissions.units_month(db, units, month, minimum) if units else {}
    start, end = submissions.month_bounds(month)
    held = Counter(c["kind"] for c in store.list_press_conferences(db, start=start, end=end))
    last = reports.parse_month(month).previous()
    short = [r["unit"] for r in reports.unit_standing(db, last.label, now, minimum)["rows"].values()
             if r["below_minimum"]] if units else []
    return {"month": month, "units": len(units), "units_met": sum(m["met"] for m in months.values()),
            "days_left": submissions.days_left(now), "press_held": held["conference"],
            "press_minimum": press.MINIMUMS["conference"][1], "media_held": held["media_event"],
            "media_minimum": press.MINIMUMS["media_event"][1],
            "training": trainings.half_status(db, now), "last_month": last.label, "last_month_short": short,
            "health_days": [{k: d[k] for k in ("name", "topic", "first")}
                            for d in healthdays.starting_between(db, today, today + timedelta(days=DAYS_AHEAD))],
            "assessments": [{k: r[k] for k in ("id", "title", "event_day", "level")}
                            for r in assessment.kept_between(db, today, today + timedelta(days=DAYS_AHEAD))],
            "own_media": _own_media(db, start, now, threshold)}


def _own_media(db, start: str, now: datetime, threshold: float) -> dict | None:
    """The office's channels from `start` (the month's first moment) to `now`, against as many
    days before (ownmedia.figures): posts, reactions and the unanswered topics; None without channels."""
    from . import ownmedia

    span = now - parse_time(start)
    found = ownmedia.figures(db, start, iso(now), threshold, previous_start=iso(parse_time(start) - span))
    if not found["accounts"]:
        return None
    return {"channels": len(found["accounts"]), "posts": found["total"]["posts"],
            "engagement": found["total"]["engagement"], "previous": found["previous"],
            "unanswered": found["unanswered"]}


def _change(now: float | None, before: float | None, unit: str) -> str:
    if now is None or before is None:
        return ""
    delta = now - before
    return f"（较前一周 {'+' if delta >= 0 else '−'}{abs(delta):.1f}{unit}）"


def headline(weeks: list[dict]) -> list[str]:
    """Last complete week against the week before, in the words of the reports."""
    done = [w for w in weeks if not w["partial"]]
    if not done:
        return []
    w, before = done[-1], (done[-2] if len(done) > 1 else None)
    span = f"{w['label']}，{w['first_day'][5:]} 至 {w['last_day'][5:]}"
    if not w["health_related"]:
        return [f"上周（{span}）没有健康相关条目。"]
    grew = ""
    if before and before["health_related"]:
        grew = _change(100 * w["health_related"] / before["health_related"] - 100, 0.0, "%")
    lines = [f"上周（{span}）健康相关条目 {w['health_related']:,} 条{grew}，其中疑似谣言 {w['flagged']:,} 条。"]
    if w["scored"]:
        negative = w["shares"].get("negative")
        lines.append(f"舆情：{w['opinion_line']}；负面占比 {negative:.1f}%"
                     + _change(negative, before and before["scored"] and before["shares"].get("negative"), " 个百分点")
                     + "。")
    if w["alerts"]:
        severity = "，".join(f"{k} {n}" for k, n in w["by_severity"].items() if n)
        met = (f"，5 小时内发布信息 {w['share_5h']:.1f}%" + _change(w["share_5h"], before and before["share_5h"], " 个百分点")
               if w["share_5h"] is not None else "")
        lines.append(f"预警 {w['alerts']} 起（{severity}）{met}；发布澄清稿 {w['published']} 篇。")
    else:
        lines.append(f"未生成预警；发布澄清稿 {w['published']} 篇。")
    return lines


def late_lines(late: dict) -> list[str]:
    """What is late now, one line per overdue alert, then one per unit late with its reply."""
    return [f"预警 #{o['id']}（{o['severity']}）{CLOCK_ZH[o['clock']]}已超时 {o['late_hours']:.1f} 小时"
            f"（时限 {beijing(o['deadline'], '%m-%d %H:%M')}）：{o['title'] or ''}" for o in late["overdue"]] + [
        f"预警 #{r['alert_id']}（{r['alert_severity']}）交办 {r['unit_name']} 逾期未反馈 {r['late_hours']:.1f} 小时"
        f"（时限 {beijing(r['due_at'], '%m-%d %H:%M')}）" for r in late.get("referrals", [])]


def trend_csv(weeks: list[dict]) -> str:
    """The weeks as CSV for Excel (exports.csv_text), shares and rates as numbers."""
    return csv_text(CSV_HEADER, (
        [w["label"], w["first_day"], w["last_day"], "是" if w["partial"] else "否", w["health_related"],
         w["shares"].get("positive"), w["shares"].get("neutral"), w["shares"].get("negative"), w["flagged"],
         w["alerts"], w["by_severity"]["一级"], w["by_severity"]["二级"], w["by_severity"]["三级"], w["share_5h"],
         w["published"]] for w in weeks))
