"""The demo's weeks of history: what the store would hold had the platform run for a while.

The live replay (rumourwatch.demo) starts a couple of hours back, so a fresh demo had no last week:
the leaders' 周报 and 月通报, the trends, the units' monthly minimum, the experts' record and the
repeat publishers were empty. Before the live replay starts, a fresh demo database is given
`weeks` of history ending where the live replay begins:

* **Items.** A fixed share (HISTORY_SHARE) of each labelled test set's items and of the stream
  sample's posts, drawn by a hash of the item's id (`sources.replay.in_history`), plays through the
  worker — the same ingest, scoring, clustering and alert rules as live — on a simulated clock. Each
  dataset's share is spread over the whole window (its own speed); the live replay leaves these
  items out (`replay:…,history=SHARE`), so no post is played twice.
* **People.** Who acts on the alerts is simulated, deterministically (a seeded draw per alert),
  through the same workflow functions the pages call, at plausible times of a working day:

  - the monitor on duty (the demo's `monitor` account, round the clock) looks at a new alert
    within the hour. A story alert on a labelled post is
    judged by the dataset's label (the truth the model never saw): a false one is confirmed
    (verdict 确认谣言) and assigned to the first suggested expert, and its publisher is asked to
    take it down; a true one gets the verdict 非谣言, which dismisses it. Any other alert (a post
    of the unlabelled stream, a keyword, a spike) is dismissed with a reason: nobody checked it.
  - the expert accepts within the hour and drafts and submits within hours, in their working hours
    (07:00–23:00 Beijing time: a 三级 task offered at night is taken up in the morning; 一级 and
    二级 ones reach the expert on call at any hour); the monitor
    reviews and publishes (about one draft in ten is returned once for more evidence, about one
    offer in sixteen declined and passed to the next suggested expert). Most clarifications come
    out inside the 5-hour clock; about one in eight is drawn slow, and a 三级 one raised at night
    waits for the morning. A 一级 alert's press conference is held within a day, in office hours. A clarification's text is the dataset's own published
    analysis when it has one (CHECKED), else a short template naming the claim.
  - platforms answer takedown requests within two days.
  - the units' correspondents report, the office adopts or declines, refers some alerts' events to
    units that answer, holds one correspondents' training (seed 002) two weeks in and one for the
    pool's experts (seed 001, 18) on the first Thursday after two and a half weeks; the
    office holds a press conference on its work on each month's first Tuesday, a media activity on
    each month's third Thursday, and takes part in one press event of the higher commission three
    weeks in (seed 004); on the first working morning it lists a publicity week of its own, set
    to begin ten days after the history ends (seed 001, 3).

Experts without an account act under their own name (as the audit log shows them); the demo's
`expert` account is the first expert of the roster. What the simulation did is the history's
audit trail, like any other; the demo's pages say the history is simulated (`demo_history` state).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from . import (
    alerts,
    assessment,
    experts,
    healthdays,
    ownmedia,
    press,
    referrals,
    store,
    submissions,
    trainings,
)
from .config import BundleLines
from .errors import RumourwatchError
from .records import CST, UTC, iso, parse_time
from .sources.replay import DATASET_FILES, ReplaySource, in_history, label_id

HISTORY_SHARE = 0.35
HISTORY_DATASETS = ("stream", "checked", "ced")
STATE_KEY = "demo_history"
STEP = timedelta(minutes=30)
FALSE_LABELS = {"fake", "rumor", "rumour"}
TRUE_LABELS = {"real", "non-rumor", "non-rumour"}
EXPERT_HOURS = (7, 23)  # Beijing hours the simulated experts work (the monitors are on duty round the clock)
OFFICE_HOURS = (8, 22)  # a press conference's
HISTORY_LABELLED = ", ".join(f"'demo-history-{ds}'" for ds in HISTORY_DATASETS if ds != "stream")
DEMO_URL = "https://demo.rumourwatch.invalid/clarifications/{id}"


@dataclass
class Summary:
    start: str
    end: str
    items: int = 0
    reactions: int = 0
    alerts: int = 0
    verdicts: int = 0
    dismissed: int = 0
    assignments: int = 0
    published: int = 0
    takedowns: int = 0
    submissions: int = 0
    referrals: int = 0
    trainings: int = 0
    expert_trainings: int = 0
    press: int = 0  # press conferences on policy (those on alerts come with their step)
    media_events: int = 0
    upper_events: int = 0
    health_days: int = 0  # the office's own observance days listed
    assessments: int = 0  # 事前研判 kept
    own_channels: int = 0  # 政务新媒体 accounts registered
    errors: list = field(default_factory=list)  # workflow steps refused (said, the history goes on)


def history_sources(data_dir, start: datetime, end: datetime, holdout: dict | None, exclude, clock,
                    share: float = HISTORY_SHARE, limit: int | None = None) -> list[ReplaySource]:
    """One replay per dataset of its history share, each at the speed that spreads its share over
    [start, end) (the stream's eight days over six weeks, CED's three months of test items too)."""
    window = (end - start).total_seconds()
    sources = []
    for ds in HISTORY_DATASETS:
        probe = ReplaySource(data_dir, holdout=holdout, exclude=exclude, datasets=(ds,), history=share,
                             history_only=True, limit=limit)
        first = last = None
        for epoch, _, _ in probe._items(ds):
            first = epoch if first is None else first
            last = epoch
        if first is None:
            continue
        speed = max(last - first, 1.0) / (window * 0.98)
        sources.append(ReplaySource(data_dir, speed=speed, start=start, clock=clock, holdout=holdout,
                                    exclude=exclude, datasets=(ds,), history=share, history_only=True,
                                    limit=limit, name=f"demo-history-{ds}"))
    return sources


def bundle_truth(data_dir, share: float = HISTORY_SHARE) -> dict[str, dict]:
    """external id -> {"false": bool, "analysis": str | None} for the labelled items of the history."""
    truth = {}
    for ds in ("checked", "ced"):
        with BundleLines(Path(data_dir) / DATASET_FILES[ds]) as lines:  # a damaged file says which
            for line in lines:
                try:
                    raw = json.loads(line)
                except ValueError:
                    continue
                label = str(raw.get("label") or "").lower()
                if label not in FALSE_LABELS | TRUE_LABELS or raw.get("id") is None:
                    continue
                if in_history(ds, label_id(ds, raw), share):
                    truth[str(raw["id"])] = {"false": label in FALSE_LABELS,
                                             "analysis": (raw.get("analysis") or "").strip() or None}
    return truth


def in_hours(at: datetime, hours: tuple[int, int]) -> bool:
    return hours[0] <= at.astimezone(CST).hour < hours[1]


def working_time(at: datetime, hours: tuple[int, int] = EXPERT_HOURS) -> datetime:
    """`at`, or the next start of a working day (Beijing time, `hours`) when it falls outside one."""
    if in_hours(at, hours):
        return at
    local = at.astimezone(CST)
    start = local.replace(hour=hours[0], minute=0, second=0, microsecond=0)
    if local.hour >= hours[0]:
        start += timedelta(days=1)
    return start.astimezone(UTC) + timedelta(minutes=random.Random(str(at)).randint(0, 40))


class People:
    """The simulated monitor, experts and platforms: each alert's steps are drawn once (seeded by
    its id) and taken when the simulated clock reaches them."""

    def __init__(self, db, truth: dict, rules: dict, summary: Summary, seed: int = 0, threshold: float = 0.5):
        self.db = db
        self.truth = truth
        self.rules = rules
        self.summary = summary
        self.seed = seed
        self.plans: dict[int, dict] = {}
        self.training_tried = False  # the history's one correspondents' training: tried once, held or refused
        self.upper_tried = False  # the history's one press event of the higher commission: likewise
        self.health_day_tried = False  # the office's own observance day: listed once
        self.assessment_tried = False  # the history's one 事前研判, kept
        self.channel_tried = False  # the office's own channel (政务新媒体), registered once
        self.threshold = threshold  # the installation's rumour threshold (the 事前研判's flagged items)
        self.expert_training_tried = False  # the history's one experts' training
        self.demo_expert = (store.get_user(db, "expert") or {}).get("expert_id")

    def rng(self, *key) -> random.Random:
        return random.Random(":".join(map(str, (self.seed, *key))))

    def expert_actor(self, expert_id: int) -> str:
        if expert_id == self.demo_expert:
            return "expert"
        return (store.get_expert(self.db, expert_id) or {}).get("name") or f"expert-{expert_id}"

    def act(self, now: datetime) -> None:
        self.takedowns(now)
        self.unit_reports(now)
        self.unit_training(now)
        self.expert_training(now)
        self.press_work(now)
        self.office_health_day(now)
        self.office_assessment(now)
        self.office_channel(now)
        self.referral_replies(now)
        for alert in store.list_alerts(self.db, "active", 100000, now=iso(now)):
            self.attempt(alert, now, self.step)
        for alert_id in [a for a, p in self.plans.items() if p.get("conference_due")]:
            self.attempt(store.get_alert(self.db, alert_id), now, self.conference)
        self.review_flags(now)

    def review_flags(self, now: datetime) -> None:
        """The monitor goes through the flagged health items of the labelled sets that no alert
        covers, an hour or two after they came in: each gets its verdict, and a false one an alert
        raised by hand (人工上报), so an expert clarifies it."""
        rows = self.db.execute(
            f"""SELECT id, external_id, published_at, reaction_count FROM items
                WHERE is_rumour = 1 AND health_related = 1 AND source IN ({HISTORY_LABELLED})
                  AND NOT EXISTS (SELECT 1 FROM verdicts v WHERE v.item_id = items.id)""").fetchall()
        for item_id, external_id, published_at, reactions in rows:
            truth = self.truth.get(external_id)
            r = self.rng("flag", item_id)
            if truth is None or now < parse_time(published_at) + timedelta(minutes=r.uniform(30, 150)):
                continue
            if alerts.story_alert(self.db, item_id) is not None:
                continue  # the alert's own steps judge it (decide)
            try:
                if not truth["false"]:
                    experts.record_verdict(self.db, item_id, "not_rumour", "演示历史：经核实为真实信息", "monitor", now)
                    self.summary.verdicts += 1
                    continue
                experts.record_verdict(self.db, item_id, "rumour", "演示历史：经核实为不实信息", "monitor", now)
                self.summary.verdicts += 1
                alerts.raise_alert(self.db, item_id, "二级" if reactions >= 100 else "三级",
                                   "演示历史：核实为不实信息，请专家澄清", "monitor", now, self.rules)
            except RumourwatchError as exc:
                self.summary.errors.append(f"item {item_id}: {exc}")

    def attempt(self, alert: dict, now: datetime, step) -> None:
        try:
            step(alert, now)
        except RumourwatchError as exc:  # a step the workflow refused: said, the history goes on
            self.summary.errors.append(f"alert {alert['id']}: {exc}")
            plan = self.plans.setdefault(alert["id"], {})
            plan["stuck"] = True
            plan.pop("conference_due", None)

    def plan(self, alert: dict) -> dict:
        plan = self.plans.get(alert["id"])
        if plan is None:
            r = self.rng("alert", alert["id"])
            created = parse_time(alert["created_at"])
            slow = r.random() < 0.12  # about one in eight is slow and misses the 5-hour clock
            look = created + timedelta(minutes=r.uniform(5, 55))  # the monitor on duty
            # 一级 and 二级 alerts reach the expert on call at any hour; a 三级 one waits for the morning
            plan = {"look": look, "slow": slow, "r": r, "on_call": alert["severity"] in ("一级", "二级")}
            self.plans[alert["id"]] = plan
        return plan

    def step(self, alert: dict, now: datetime) -> None:
        plan = self.plan(alert)
        if plan.get("stuck") or now < plan["look"]:
            return
        if "decided" not in plan:
            self.decide(alert, plan, now)
            return
        self.expert_work(alert, plan, now)

    def decide(self, alert: dict, plan: dict, now: datetime) -> None:
        plan["decided"] = True
        item = store.get_item(self.db, alert["item_id"]) if alert.get("item_id") else None
        truth = self.truth.get(item["external_id"]) if item else None
        if alert["kind"] not in ("rumour", "manual") or truth is None:
            alerts.dismiss_alert(self.db, alert["id"], "monitor", now, "演示历史：已查看，未核实为健康谣言，暂不处置",
                                 self.rules)
            self.summary.dismissed += 1
            return
        if not truth["false"]:
            experts.record_verdict(self.db, item["id"], "not_rumour", "演示历史：经核实为真实信息", "monitor", now,
                                   alert["id"])
            self.summary.verdicts += 1
            self.summary.dismissed += 1
            return
        if not store.verdicts_for_item(self.db, item["id"]):  # a flag the monitor confirmed has one
            experts.record_verdict(self.db, item["id"], "rumour", "演示历史：经核实为不实信息", "monitor", now,
                                   alert["id"])
            self.summary.verdicts += 1
        plan["truth"] = truth
        if item.get("account") and plan["r"].random() < 0.5:
            experts.request_takedown(self.db, item["id"], "monitor", now, "演示历史：请平台删除该不实信息")
            self.summary.takedowns += 1
        self.refer(alert, now)
        self.assign(alert, plan, now)

    def refer(self, alert: dict, now: datetime) -> None:
        """About one confirmed false story in three is also handed to a unit to check locally (its own
        draw, so the experts' history does not change with it)."""
        r = self.rng("refer", alert["id"])
        units = self.__dict__.setdefault("_units", store.list_units(self.db))
        if not units or r.random() >= 0.35:
            return
        unit = r.choice(referrals.suggested_units(units, alert)[:3])
        try:
            referrals.refer(self.db, alert["id"], unit["id"], r.choice(REFERRAL_ASKS), actor="monitor", now=now,
                            hours=referrals.default_hours(alert["severity"]), rules=self.rules)
            self.summary.referrals += 1
        except RumourwatchError as exc:
            self.summary.errors.append(f"refer alert {alert['id']}: {exc}")

    def referral_replies(self, now: datetime) -> None:
        """The units answer in office hours, most within their time, some late."""
        if not in_hours(now, OFFICE_HOURS):
            return
        for ref in store.list_referrals(self.db, status="referred"):
            r = self.rng("referral", ref["id"])
            given = (parse_time(ref["due_at"]) - parse_time(ref["referred_at"])).total_seconds() / 3600
            if now < parse_time(ref["referred_at"]) + timedelta(hours=given * r.uniform(0.2, 1.15)):
                continue
            actor = "correspondent" if ref["unit_code"] == DEMO_UNIT else f"通讯员-{ref['unit_code']}"
            try:
                referrals.reply(self.db, ref["id"], r.choice(REFERRAL_REPLIES).format(unit=ref["unit_name"]),
                                actor=actor, now=now, unit_id=ref["unit_id"])
            except RumourwatchError as exc:
                self.summary.errors.append(f"reply to referral {ref['id']}: {exc}")

    def assign(self, alert: dict, plan: dict, now: datetime) -> None:
        suggested = experts.suggest_experts(self.db, alert["id"], limit=2, now=now)
        if not suggested:
            plan["look"] = now + timedelta(hours=1)  # everyone busy or away: look again later
            return
        r = plan["r"]
        expert_id = suggested[0 if len(suggested) == 1 or r.random() < 0.7 else 1]["expert_id"]
        assignment = experts.assign_expert(self.db, alert["id"], expert_id, "monitor", now, self.rules)
        self.offered(plan, assignment, expert_id, now)

    def offered(self, plan: dict, assignment: int, expert_id: int, now: datetime) -> None:
        """Draw the offered expert's steps: accept, submit, the review, publication; about one
        offer in sixteen is declined (the task goes on to the next suggested expert)."""
        self.summary.assignments += 1
        r = plan["r"]
        scale = r.uniform(2.5, 6.0) if plan["slow"] else 1.0
        accept = working_time(now + timedelta(minutes=r.uniform(10, 50) * scale), self.hours(plan))
        plan.update(assignment=assignment, expert_id=expert_id, accept=accept, scale=scale)
        self.draft_by(plan, accept, (60, 130))
        plan["declines"] = r.random() < 1 / 16

    @staticmethod
    def hours(plan: dict) -> tuple[int, int]:
        """The expert's working hours (a 三级 task offered at night is taken up in the morning), or
        any hour for a task on call."""
        return (0, 24) if plan["on_call"] else EXPERT_HOURS

    def draft_by(self, plan: dict, start: datetime, minutes: tuple[float, float]) -> None:
        """Draw when the draft begun at `start` is submitted (after `minutes`, in the expert's hours),
        reviewed and published."""
        r, scale = plan["r"], plan["scale"]
        plan["submit"] = working_time(start + timedelta(minutes=r.uniform(*minutes) * scale), self.hours(plan))
        plan["review"] = plan["submit"] + timedelta(minutes=r.uniform(15, 45) * scale)
        plan["publish"] = plan["review"] + timedelta(minutes=r.uniform(5, 25))

    def expert_work(self, alert: dict, plan: dict, now: datetime) -> None:
        if "assignment" not in plan:
            if now >= plan["look"]:
                self.assign(alert, plan, now)
            return
        a = store.get_assignment(self.db, plan["assignment"])
        actor = self.expert_actor(plan["expert_id"])
        if a["status"] in ("offered", "accepted") and not in_hours(now, self.hours(plan)):
            return  # the expert's own steps wait for the morning
        if a["status"] == "offered" and now >= plan["accept"] and plan["declines"]:
            nxt = experts.decline_assignment(self.db, a["id"], actor, now, "演示历史：时间冲突，无法按时完成",
                                             rules=self.rules)
            if nxt is None:  # nobody left to offer it to: the monitor looks again later
                plan.pop("assignment")
                plan["look"] = now + timedelta(hours=1)
            else:
                self.offered(plan, nxt, store.get_assignment(self.db, nxt)["expert_id"], now)
        elif a["status"] == "offered" and now >= plan["accept"]:
            experts.accept_assignment(self.db, a["id"], actor, now)
        elif a["status"] == "accepted" and now >= plan["submit"]:
            item = store.get_item(self.db, alert["item_id"])
            title, body = clarification_text(item, plan["truth"])
            cid = experts.save_draft(self.db, a["id"], actor, now, title, body,
                                     references="演示历史：模拟的澄清稿件")
            experts.submit_for_review(self.db, cid, actor, now, rules=self.rules)
            plan["clarification"] = cid
        elif a["status"] == "submitted" and "clarification" in plan:
            c = store.get_clarification(self.db, plan["clarification"])
            if c["status"] == "in_review" and now >= plan["review"] and plan.setdefault(
                    "returns", plan["r"].random() < 0.1):  # about one draft in ten goes back once
                experts.review_clarification(self.db, c["id"], "monitor", now, False,
                                             "演示历史：请补充权威依据和参考来源", self.rules)
                plan["returns"] = False
                self.draft_by(plan, now, (40, 90))
            elif c["status"] == "in_review" and now >= plan["review"]:
                experts.review_clarification(self.db, c["id"], "monitor", now, True, "演示历史：同意发布",
                                             self.rules)
            elif c["status"] == "approved" and now >= plan["publish"]:
                experts.publish_clarification(self.db, c["id"], "monitor", now, DEMO_URL.format(id=c["id"]))
                self.summary.published += 1
                plan["conference_due"] = bool(alert.get("conference_by"))

    def conference(self, alert: dict, now: datetime) -> None:
        plan = self.plans[alert["id"]]
        if alert.get("conference_at"):
            plan.pop("conference_due", None)
            return
        at = plan.setdefault("conference", working_time(parse_time(alert["created_at"]) + timedelta(
            hours=plan["r"].uniform(8, 30 if plan["slow"] else 21)), OFFICE_HOURS))
        if now >= at and in_hours(now, OFFICE_HOURS):
            alerts.record_step(self.db, alert["id"], "conference_held", "monitor", now, "演示历史：召开新闻发布会")
            plan.pop("conference_due", None)

    def takedowns(self, now: datetime) -> None:
        for t in store.list_takedowns(self.db, "requested"):
            r = self.rng("takedown", t["id"])
            if now >= parse_time(t["requested_at"]) + timedelta(hours=r.uniform(6, 48)):
                outcome = "removed" if r.random() < 0.8 else "refused"
                experts.record_takedown_outcome(self.db, t["id"], outcome, "monitor", now, "演示历史：平台答复")


    def unit_reports(self, now: datetime) -> None:
        """The units' correspondents report in office hours, each unit at its own pace (drawn once:
        some stay below the monthly minimum), and the monitor adopts or declines what waits within
        a working day or so."""
        if not in_hours(now, OFFICE_HOURS) or now.astimezone(CST).weekday() >= 5:
            return
        units = self.__dict__.setdefault("_units", store.list_units(self.db))
        slots = 22 * (OFFICE_HOURS[1] - OFFICE_HOURS[0]) * (timedelta(hours=1) / STEP)  # steps in a month
        for unit in units:
            pace = self.rng("unit-pace", unit["code"]).choice(UNIT_PACE)  # pieces a month
            r = self.rng("unit-report", unit["code"], iso(now))
            if r.random() >= pace / slots:
                continue
            kind = r.choices(("work", "science", "opinion"), (5, 4, 1))[0]
            title, content = unit_report_text(kind, unit["name"], r)
            actor = "correspondent" if unit["code"] == DEMO_UNIT else f"通讯员-{unit['code']}"
            try:
                submissions.submit(self.db, unit_id=unit["id"], kind=kind, title=title, content=content,
                                   actor=actor, now=now, platform="微信群" if kind == "opinion" else None)
                self.summary.submissions += 1
            except RumourwatchError as exc:
                self.summary.errors.append(f"unit report {unit['code']}: {exc}")
        for sub in store.list_submissions(self.db, status="submitted", limit=1000):
            r = self.rng("unit-decide", sub["id"])
            if now < parse_time(sub["submitted_at"]) + timedelta(hours=r.uniform(1, 20)):
                continue
            adopt = r.random() < 0.85
            try:
                submissions.decide(self.db, sub["id"], adopt=adopt, actor="monitor", now=now,
                                   adopted_in=r.choice(submissions.ADOPTED_IN[:5]) if adopt else None,
                                   note=None if adopt else r.choice(DECLINE_REASONS))
            except RumourwatchError as exc:
                self.summary.errors.append(f"decide submission {sub['id']}: {exc}")


    def unit_training(self, now: datetime) -> None:
        """The office holds its half-year's correspondents' training (seed 002: 原则上每半年开展一次)
        on the first working afternoon two weeks into the history, and records it: most units sent
        their correspondent (a seeded draw), two people each."""
        if self.training_tried or now < parse_time(self.summary.start) + TRAINING_AFTER:
            return
        local = now.astimezone(CST)
        if local.weekday() >= 5 or not 14 <= local.hour < 17:
            return
        units = store.list_units(self.db)
        r = self.rng("training", local.date().isoformat())
        present = [u["id"] for u in units if u["code"] == DEMO_UNIT or r.random() < 0.8]
        half = "上" if local.month <= 6 else "下"
        self.training_tried = True
        try:
            trainings.record(self.db, held_on=local.date(), title=f"{local.year} 年{half}半年卫健系统通讯员培训班",
                             unit_ids=present, actor="monitor", now=now, attendees=2 * len(present),
                             note="委机关会议室；信息报送要求、舆情信息写作与健康科普写作（演示数据）")
            self.summary.trainings += 1
        except RumourwatchError as exc:
            self.summary.errors.append(f"training: {exc}")


    def expert_training(self, now: datetime) -> None:
        """The office trains the pool's experts once (seed 001, 18), on the first Thursday afternoon
        two and a half weeks in: most active experts took part (a seeded draw), the demo's expert
        among them."""
        if self.expert_training_tried or now < parse_time(self.summary.start) + EXPERT_TRAINING_AFTER:
            return
        local = now.astimezone(CST)
        if local.weekday() != 3 or not 14 <= local.hour < 17:
            return
        self.expert_training_tried = True
        pool = store.list_experts(self.db, active_only=True)
        r = self.rng("expert-training", local.date().isoformat())
        present = [e["id"] for i, e in enumerate(pool) if i == 0 or r.random() < 0.6]
        try:
            trainings.record(self.db, held_on=local.date(), title="健康科普创作与新媒体传播培训班（演示数据）",
                             audience="experts", expert_ids=present, actor="admin", now=now,
                             note="科普文章写作、短视频脚本、辟谣稿件规范（演示数据）")
            self.summary.expert_trainings += 1
        except RumourwatchError as exc:
            self.summary.errors.append(f"experts' training: {exc}")

    def press_work(self, now: datetime) -> None:
        """The office's press work (seed 004: 每月至少组织一场媒体活动，至少召开一次新闻发布会，每年至少参加
        一次上级组织的新闻发布活动), each recorded when held: a press conference on its work on the
        month's first Tuesday at 10:00, with the spokesperson; a media activity on its third
        Thursday at 15:00; and, once, three weeks into the history, the higher commission's press
        event on the first Wednesday at 15:00."""
        local = now.astimezone(CST)
        if local.minute >= STEP.total_seconds() / 60:
            return
        week = (local.day - 1) // 7  # the month's first (0), second (1)… such weekday
        if local.weekday() == 1 and week == 0 and local.hour == 10:
            self._press("conference", now, f"{local.month} 月卫生健康重点工作新闻发布会（演示数据）",
                        spokesperson="委新闻发言人（演示）", media="市电视台、市日报、市融媒体中心")
        elif local.weekday() == 3 and week == 2 and local.hour == 15:
            self._press("media_event", now, f"{local.month} 月媒体开放日：走进市疾控中心（演示数据）",
                        spokesperson="市疾控中心专家（演示）", media="市日报、市融媒体中心")
        elif (local.weekday() == 2 and local.hour == 15 and not self.upper_tried
              and now >= parse_time(self.summary.start) + UPPER_EVENT_AFTER):
            self.upper_tried = True
            self._press("upper_event", now, "参加省卫生健康委冬季健康主题新闻发布会（演示数据）",
                        spokesperson="委分管负责同志（演示）")

    def office_health_day(self, now: datetime) -> None:
        """On the history's first working morning the office lists its own publicity week (a
        卫生健康纪念日 of its own, seed 001, 3), set to begin ten days after the history ends, so the
        宣传节点 tab has a day of the office's ahead whatever the month."""
        local = now.astimezone(CST)
        if self.health_day_tried or local.weekday() >= 5 or local.hour != 9:
            return
        self.health_day_tried = True
        begins = (parse_time(self.summary.end) + timedelta(days=10)).astimezone(CST).date()
        if (begins.month, begins.day) == (2, 29):
            begins += timedelta(days=1)
        try:
            healthdays.add(self.db, name="全市冬春季传染病防控宣传周（演示）", topic="传染病及地方病防控",
                           month=begins.month, day=begins.day, days=7, actor="monitor", now=now, note="演示数据")
            self.summary.health_days += 1
        except RumourwatchError as exc:
            self.summary.errors.append(f"health day: {exc}")

    def office_assessment(self, now: datetime) -> None:
        """On the first working morning of the history's last ten days the monitor assesses the
        winter flu vaccination push planned for five days before the end (事前研判, seed 001) and
        keeps it, so 舆情风险点 lists one with what followed its day."""
        local = now.astimezone(CST)
        end = parse_time(self.summary.end)
        if self.assessment_tried or local.weekday() >= 5 or local.hour != 10 or now < end - ASSESSMENT_BEFORE:
            return
        self.assessment_tried = True
        try:
            made = assessment.compute(self.db, title="冬季流感疫苗接种集中宣传（演示）", query="疫苗|流感", topic=None,
                                      event_day=(end - timedelta(days=5)).astimezone(CST).date(), now=now,
                                      threshold=self.threshold, note="演示数据")
            assessment.save(self.db, made, actor="monitor", now=now)
            self.summary.assessments += 1
        except RumourwatchError as exc:
            self.summary.errors.append(f"assessment: {exc}")

    def office_channel(self, now: datetime) -> None:
        """On the first working morning of the history's last ten days the monitor registers the
        office's Weibo (政务新媒体, seed 001 五要). The bundle has no health office's account, so the
        account whose health items drew the most reposts, comments and likes so far stands in for
        it, named as a demo: the 政务新媒体 page and the reports then have a channel to measure."""
        local = now.astimezone(CST)
        end = parse_time(self.summary.end)
        if self.channel_tried or local.weekday() >= 5 or local.hour != 11 or now < end - ASSESSMENT_BEFORE:
            return
        self.channel_tried = True
        found = store.most_engaged_account(self.db, self.summary.start, iso(now))
        if found is None:
            self.summary.errors.append("own channel: no account's health items drew any reactions")
            return
        try:
            ownmedia.add(self.db, platform=found[0], account=found[1], name="本委官方微博（演示）", actor="monitor",
                         now=now, note="演示数据：以数据集中互动最多的账号代替本委账号")
            self.summary.own_channels += 1
        except RumourwatchError as exc:
            self.summary.errors.append(f"own channel: {exc}")

    def _press(self, kind: str, now: datetime, topic: str, **fields) -> None:
        try:
            press.record(self.db, held_at=now, topic=topic, actor="monitor", now=now, kind=kind, **fields)
        except RumourwatchError as exc:
            self.summary.errors.append(f"{press.KIND_ZH[kind]}: {exc}")
            return
        if kind == "conference":
            self.summary.press += 1
        elif kind == "media_event":
            self.summary.media_events += 1
        else:
            self.summary.upper_events += 1


TRAINING_AFTER = timedelta(days=14)
EXPERT_TRAINING_AFTER = timedelta(days=17)
UPPER_EVENT_AFTER = timedelta(days=21)
ASSESSMENT_BEFORE = timedelta(days=10)  # the 事前研判 is made in the history's last ten days
REFERRAL_ASKS = ("请核实该说法在辖区的传播情况，向询问的群众做好解释，并反馈核实情况和处置措施。",
                 "请核实所述事件是否发生在本辖区（本单位），并反馈核实情况。")
REFERRAL_REPLIES = ("经核实，{unit}辖区未发生所述情况，该说法系网络转发；已在辖区居民群内发布解释。（演示数据）",
                    "经核实，所述情况与事实不符；{unit}已安排医生向询问的群众解释，并将持续关注。（演示数据）")

# The units' reports in the demo: each unit's pace a month (seed 002's minimum is 4), and the texts
UNIT_PACE = (1, 2, 3, 4, 5, 6, 8)
DEMO_UNIT = "U001"  # the demo's `correspondent` account reports for it
DECLINE_REASONS = ("与本月已采用信息重复", "缺少时间、地点等要素，请补充后重新报送", "不属于卫生健康领域")
_WORK = ("开展“健康科普进社区”活动", "组织家庭医生签约服务宣传周", "举办控烟知识讲座", "开展秋冬季传染病防控培训",
         "开展老年人健康体检", "组织中小学生视力筛查", "举办心理健康咨询日活动", "开展职业病防治法宣传周活动")
_SCIENCE = ("秋冬季如何预防流感", "高血压患者怎样合理膳食", "儿童青少年近视防控要点", "戒烟门诊能帮你做什么",
            "糖尿病患者运动注意事项", "孕期营养补充的常见误区", "冬季一氧化碳中毒的预防", "科学认识疫苗接种")
_CLAIMS = ("每天喝醋可以软化血管", "吃大蒜能预防流感", "隔夜菜一律致癌", "打完疫苗不能洗澡",
           "酸性体质是万病之源", "微波炉加热的食物有辐射")


def unit_report_text(kind: str, unit: str, r: random.Random) -> tuple[str, str]:
    """A unit report's title and content (written for the demo; nothing from the bundle)."""
    if kind == "work":
        what = r.choice(_WORK)
        return f"{unit}{what}", f"{unit}本周{what}，覆盖辖区居民约 {r.randint(2, 30) * 50} 人次。（演示数据）"
    if kind == "science":
        title = r.choice(_SCIENCE)
        return f"科普：{title}", f"{unit}专家撰写科普文章《{title}》，已在本单位公众号发布。（演示数据）"
    claim = r.choice(_CLAIMS)
    return (f"辖区微信群流传“{claim}”的说法",
            f"近日辖区多个居民微信群转发“{claim}”的说法，部分老年居民询问。本单位已安排医生在群内解释。（演示数据）")


def clarification_text(item: dict, truth: dict) -> tuple[str, str]:
    text = " ".join((item.get("text") or "").split())
    claim = text[:40] + ("…" if len(text) > 40 else "")
    title = f"关于“{claim[:24]}”的说明"
    body = truth.get("analysis") or (
        f"近期网传“{claim}”。经核实，该说法与事实不符，缺乏科学依据。请公众以卫生健康部门和权威机构发布的信息为准，"
        "不信谣、不传谣。")
    return title, body


def build(db, settings, bundle, rules_path, end: datetime, weeks: float = 6, share: float = HISTORY_SHARE,
          limit: int | None = None) -> Summary:
    """Give `db` `weeks` of history ending at `end` (see the module docstring); returns what was done.
    The history's sources are one-off imports (demo-history-stream …), not feeds that went silent.
    `limit` caps the items taken from each dataset (tests)."""
    from .sources import holdout_from_bundle, trained_on_by_hand
    from .worker import Worker

    start = end - timedelta(weeks=weeks)
    summary = Summary(start=iso(start), end=iso(end))
    with store.transaction(db):  # first: stopped half-way, the live replay still leaves the share out
        store.set_workflow_state(db, STATE_KEY, json.dumps({"start": summary.start, "end": summary.end,
                                                            "share": share}))
    sim = [start]

    def clock() -> datetime:
        return sim[0]

    sources = history_sources(settings.data_dir, start, end, holdout_from_bundle(bundle),
                              trained_on_by_hand(bundle), clock, share, limit)
    worker = Worker(db, sources, bundle, clock=clock, cluster_threshold=settings.cluster_threshold,
                    workflow=True, rules_path=rules_path, one_off=True, source_quiet_hours=0)
    rules = alerts.load_rules(rules_path)
    people = People(db, bundle_truth(settings.data_dir, share), rules, summary, threshold=settings.rumour_threshold)
    t = start
    while t < end:
        t = min(t + STEP, end)
        sim[0] = t
        stats = worker.poll_once()
        summary.items += stats.new_items
        summary.reactions += stats.new_reactions
        people.act(t)
    summary.alerts = db.execute("SELECT COUNT(*) FROM alerts").fetchone()[0]
    return summary


def state(db) -> dict | None:
    """What the database's history was ({"start", "end", "share"}), None when it has none."""
    raw = store.workflow_state(db, STATE_KEY)
    try:
        value = json.loads(raw) if raw else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def history_share(db) -> float:
    """The share of the bundle the database's history played (0 when it has none): the live replay
    must leave the same items out."""
    try:
        return float((state(db) or {}).get("share") or 0.0)
    except (TypeError, ValueError):
        return 0.0
