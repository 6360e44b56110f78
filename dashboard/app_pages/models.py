"""模型与评估 (analysts): the model in use and what it was trained on, how its flags agreed with the
verdicts monitors and experts recorded, the time-ordered evaluation of the model card, and the model
versions the worker has scored with."""

from pathlib import Path

import altair as alt
import pandas as pd
import streamlit as st

from dashboard import auth as dashboard_auth
from dashboard import data, ui
from dashboard.auth import require_role
from dashboard.strings import t
from dashboard.workflow_ui import label, refusal, show_error, technical_detail
from rumourwatch import retrain
from rumourwatch.evaluation import interval_text
from rumourwatch.nlp.bundle import MANIFEST_NAME

user = require_role("analyst", "admin")
st.title(t("models.title"))

settings = ui.page_settings()
path, models_dir, cards_dir = settings.db_path, Path(settings.models_dir), Path(settings.cards_dir)
st.caption(t("db_path", path=ui.escape_md(path)) + "；"
           + t("models.paths", models=ui.escape_md(models_dir), cards=ui.escape_md(cards_dir)))

HOURS = ("0h", "1h", "6h", "24h")


def num(value, digits: int = 3) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def span(interval, signed: bool = False, brackets: bool = False) -> str:
    """A 95% interval as "lo – hi" ("（lo – hi）" after a figure); "" when there is none."""
    if not interval:
        return "" if brackets else "—"
    text = interval_text(interval, signed)
    return f"（{text}）" if brackets else text


def set_name(name: str) -> str:
    return label("models.set", name)  # a set without a Chinese name (a future one) keeps its own


def current_model() -> None:
    st.subheader(t("models.current"))
    manifest = data.read_json_file(models_dir / MANIFEST_NAME)
    if manifest is None:
        st.warning(t("models.none", path=ui.escape_md(models_dir)))
        return
    components = manifest.get("components") or {}
    missing = manifest.get("missing_components") or []
    st.caption(t("models.identity", version=ui.escape_md(manifest.get("version") or t("unknown")),
                 created=data.to_china(manifest.get("created_at")) or t("unknown")))
    counts = manifest.get("training_counts") or {}
    until = manifest.get("trained_until") or {}
    cols = st.columns(3)
    threshold = manifest.get("threshold")
    cols[0].metric(t("models.metric.threshold"), num(threshold, 2) if isinstance(threshold, (int, float)) else "—",
                   help=t("models.metric.threshold.help"), border=True)
    spread = manifest.get("threshold_range")  # bundles before 2026-12 do not say
    if isinstance(spread, list) and len(spread) == 2 and all(isinstance(v, (int, float)) for v in spread):
        cols[0].caption(t("models.threshold.range", low=spread[0], high=spread[1]))
    if isinstance(threshold, (int, float)) and abs(threshold - settings.rumour_threshold) >= 0.005:
        st.caption(t("models.threshold.dashboard", dashboard=settings.rumour_threshold, model=threshold))
    cols[1].metric(t("models.metric.trained_items"), f"{sum(c.get('items', 0) for c in counts.values()):,}",
                   help=t("models.metric.trained_items.help", rumours=sum(c.get("rumours", 0) for c in counts.values())),
                   border=True)
    cols[2].metric(t("models.metric.components"), f"{len(components)} / {len(components) + len(missing)}",
                   border=True)
    if missing:
        st.warning(t("models.components.missing", names="、".join(map(str, missing))))
    if counts:
        st.markdown(f"**{t('models.training')}**")
        st.dataframe(pd.DataFrame([{
            t("models.col.set"): set_name(name), t("models.col.items"): c.get("items"),
            t("models.col.rumours"): c.get("rumours"), t("models.col.until"): data.to_china(until.get(name)) or "",
        } for name, c in counts.items()]), hide_index=True, width="content")


def verdict_frame(rows: list[dict], label_key: str, label) -> pd.DataFrame:
    return pd.DataFrame([{
        t(label_key): label(r), t("models.col.judged"): r["n"], t("models.col.rumours"): r["rumours"],
        t("models.col.flagged_confirmed"): r["flagged_confirmed"],
        t("models.col.flagged_dismissed"): r["flagged_dismissed"], t("models.col.missed"): r["missed"],
        t("models.col.precision"): ui.pct(r["precision"]), t("models.col.recall"): ui.pct(r["recall"]),
        t("models.col.f1"): num(r["macro_f1"]), t("models.col.f1_interval"): span(r.get("macro_f1_interval")),
        t("models.col.brier"): num(r["brier"]),
    } for r in rows])


def reliability_chart(points: list[dict]) -> alt.Chart:
    frame = pd.DataFrame([{t("models.col.mean_probability"): p["mean_probability"],
                           t("models.col.rumour_rate"): p["rumour_rate"], "n": p["n"]} for p in points])
    x, y = t("models.col.mean_probability"), t("models.col.rumour_rate")
    diagonal = alt.Chart(pd.DataFrame({x: [0.0, 1.0], y: [0.0, 1.0]})).mark_line(
        strokeDash=[4, 4], color="#999999").encode(x=f"{x}:Q", y=f"{y}:Q")
    base = alt.Chart(frame).encode(
        x=alt.X(f"{x}:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")),
        y=alt.Y(f"{y}:Q", scale=alt.Scale(domain=[0, 1]), axis=alt.Axis(format="%")))
    points_layer = base.mark_circle(color="#c62828").encode(
        size=alt.Size("n:Q", legend=None, scale=alt.Scale(range=[30, 400])),
        tooltip=[alt.Tooltip(f"{x}:Q", format=".0%"), alt.Tooltip(f"{y}:Q", format=".0%"), "n:Q"])
    labels = base.mark_text(dx=10, align="left", fontSize=11, color="#555555").encode(text="n:Q")
    return (diagonal + points_layer + labels).properties(height=280)


def live_agreement() -> None:
    st.subheader(t("models.live"))
    st.caption(t("models.live.caption"))
    if not data.database_exists(path):
        st.info(t("empty.no_data"))
        return
    check = data.verdict_check(path)
    if check is None:
        st.info(t("models.live.no_table"))
        return
    overall = check["overall"]
    if overall is None:
        st.info(t("models.live.none"))
        if check["unscored"]:
            st.caption(t("models.live.unscored", n=check["unscored"]))
        return
    flagged = overall["flagged_confirmed"] + overall["flagged_dismissed"]
    cols = st.columns(5)
    cols[0].metric(t("models.live.metric.judged"), f"{overall['n']:,}", border=True,
                   help=t("models.live.metric.judged.help", rumours=overall["rumours"]))
    cols[1].metric(t("models.live.metric.precision"), ui.pct(overall["precision"] if flagged else None), border=True,
                   help=t("models.live.metric.precision.help", tp=overall["flagged_confirmed"], flagged=flagged))
    cols[2].metric(t("models.live.metric.recall"), ui.pct(overall["recall"] if overall["rumours"] else None),
                   border=True, help=t("models.live.metric.recall.help", tp=overall["flagged_confirmed"],
                                       rumours=overall["rumours"]))
    cols[3].metric(t("models.live.metric.f1"), num(overall["macro_f1"]), border=True)
    cols[4].metric(t("models.live.metric.brier"), num(overall["brier"]), border=True,
                   help=t("models.live.metric.brier.help"))
    if overall.get("macro_f1_interval"):
        st.caption(t("models.live.interval", interval=span(overall["macro_f1_interval"]), n=overall["n"]))
    if check["unscored"]:
        st.caption(t("models.live.unscored", n=check["unscored"]))

    st.markdown(f"**{t('models.live.by_version')}**")
    frame = verdict_frame(check["by_version"], "models.col.version", lambda r: r["version"])
    frame[t("models.col.first")] = [data.to_china(r["first_verdict"]) for r in check["by_version"]]
    frame[t("models.col.last")] = [data.to_china(r["last_verdict"]) for r in check["by_version"]]
    st.dataframe(frame, hide_index=True, width="stretch")

    left, right = st.columns(2)
    with left:
        st.markdown(f"**{t('models.live.by_week')}**")
        st.dataframe(verdict_frame(check["by_week"], "models.col.week", lambda r: r["week"]),
                     hide_index=True, width="stretch")
    with right:
        st.markdown(f"**{t('models.live.reliability')}**")
        st.altair_chart(reliability_chart(check["reliability"]), width="stretch")
        st.caption(t("models.live.reliability.caption"))

    st.markdown(f"**{t('models.live.misses')}**")
    misses = check["misses"]
    if not misses:
        st.success(t("models.live.misses.none"))
        return
    st.caption(t("models.live.misses.caption", total=check["misses_total"], n=len(misses)))
    frame = pd.DataFrame([{
        t("col.id"): r["item_id"], t("models.col.verdict"): t(f"models.verdict.{r['verdict']}"),
        t("models.col.score"): r["rumour_probability"], t("models.col.flagged"): ui.yes_no(r["is_rumour"]),
        t("models.col.verdict_at"): data.to_china(r["at"]), t("models.col.actor"): r["actor"],
        t("models.col.version"): r["model_version"], t("models.col.text"): ui.one_line(r.get("text"), 120),
    } for r in misses])
    event = st.dataframe(frame, hide_index=True, width="stretch", key=ui.nav_key("model_misses"),
                         on_select="rerun", selection_mode="single-row", column_config={
                             t("col.id"): st.column_config.NumberColumn(format="%d", width="small"),
                             t("models.col.score"): st.column_config.ProgressColumn(
                                 min_value=0.0, max_value=1.0, format="percent", width=90),
                             t("models.col.text"): st.column_config.TextColumn(width="large")})
    picked = getattr(getattr(event, "selection", None), "rows", None)
    if picked:
        ui.open_item(int(frame.iloc[picked[0]][t("col.id")]))


def slice_f1(manifest: dict) -> dict:
    return ((manifest or {}).get("metrics") or {}).get("rumour_calibration_slice") or {}


def comparison(in_use: dict, candidate: dict) -> pd.DataFrame:
    """The two manifests side by side: version, threshold, training items per set and the
    calibration-slice macro-F1 per set and decision time."""
    rows = [(t("models.retrain.row.version"), in_use.get("version", "—"), candidate.get("version", "—")),
            (t("models.retrain.row.threshold"), num(in_use.get("threshold"), 2), num(candidate.get("threshold"), 2))]
    counts_a, counts_b = in_use.get("training_counts") or {}, candidate.get("training_counts") or {}
    for name in dict.fromkeys([*counts_a, *counts_b]):
        rows.append((t("models.retrain.row.items", set=set_name(name)),
                     f"{(counts_a.get(name) or {}).get('items', 0):,}", f"{(counts_b.get(name) or {}).get('items', 0):,}"))
    rows.append((t("models.retrain.row.store_labels"), f"{in_use.get('store_labels') or 0:,}",
                 f"{candidate.get('store_labels') or 0:,}"))
    f1_a, f1_b = slice_f1(in_use), slice_f1(candidate)
    for key in dict.fromkeys([*f1_a, *f1_b]):
        name, _, hours = key.partition("@")
        if hours == "all":
            continue
        rows.append((t("models.retrain.row.slice", set=set_name(name), hours=label("models.hours", hours)),
                     num((f1_a.get(key) or {}).get("macro_f1")), num((f1_b.get(key) or {}).get("macro_f1"))))
    return pd.DataFrame(rows, columns=[t("models.retrain.row"), t("models.retrain.in_use"),
                                       t("models.retrain.candidate")])


FLASH_KEY = "models_flash"


def flash(message: str) -> None:
    """Show `message` at the top of the page after redrawing it all (a step that changed the model
    in use changes what every section above the button shows)."""
    st.session_state[FLASH_KEY] = message
    st.rerun()


def act(action: str, fn, *args, **details) -> dict | None:
    """Run a retraining step; record it in the audit log; a step that cannot be taken says why."""
    try:
        result = fn(*args)
    except retrain.RetrainError as exc:
        st.error(refusal(exc))
        return None
    data.audit_model_action(path, user["username"], action, {**details, **result})
    return result


@st.fragment(run_every=5)
def running_job(job: dict) -> None:
    state = retrain.status(models_dir)
    if state["state"] != "running":
        st.rerun()  # finished: the whole section redraws with the outcome
    st.info(t("models.retrain.running", actor=ui.escape_md(job.get("actor")), at=data.to_china(job.get("started_at")),
              n=job.get("verdicts", 0)), icon=":material/hourglass_top:")
    if state["log"]:
        st.caption(t("models.retrain.log", n=retrain.LOG_TAIL_LINES))
        st.code(state["log"], language=None)


def retraining() -> None:
    st.subheader(t("models.retrain"))
    st.caption(t("models.retrain.caption"))
    if not dashboard_auth.can("models.train", user):
        st.info(t("models.retrain.forbidden"))
        return
    state = retrain.status(models_dir)
    job = state["job"] or {}
    if state["state"] == "running":
        running_job(job)
        return
    if state["state"] == "failed":
        st.error(t("models.retrain.failed", reason=t(f"models.retrain.failure.{state['failure']}")))
        technical_detail(state["error"])
        if state["log"]:
            technical_detail(state["log"], t("models.retrain.log", n=retrain.LOG_TAIL_LINES))
    elif state["state"] == "ready":
        manifest = state["manifest"]
        st.success(t("models.retrain.ready", version=ui.escape_md(manifest.get("version")),
                     actor=ui.escape_md(job.get("actor")), at=data.to_china(job.get("started_at"))))
        st.markdown(f"**{t('models.retrain.compare')}**")
        table = comparison(data.read_json_file(models_dir / MANIFEST_NAME) or {}, manifest)
        st.dataframe(table, hide_index=True, width="stretch", height=36 * (len(table) + 1) + 2,
                     column_config={t("models.retrain.row"): st.column_config.TextColumn(width="medium")})
        st.caption(t("models.retrain.compare.caption"))
        with st.container(horizontal=True):
            if st.button(t("models.retrain.promote"), type="primary", help=t("models.retrain.promote.help")):
                done = act("model.promote", retrain.promote, models_dir, user["username"])
                if done is not None:  # redraw the whole page: the sections above show the model in use
                    flash(t("models.retrain.promoted", version=ui.escape_md(done["version"]),
                            replaced=ui.escape_md(done["replaced"] or t("unknown"))))
            if st.button(t("models.retrain.discard")):
                act("model.discard", retrain.discard, models_dir, version=manifest.get("version"))
                st.success(t("models.retrain.discarded"))
                st.rerun()
        return
    elif state["state"] == "promoted" and job.get("rolled_back_at"):
        st.info(t("models.retrain.was_rolled_back", version=ui.escape_md(job.get("version")),
                  at=data.to_china(job.get("promoted_at")), actor=ui.escape_md(job.get("promoted_by")),
                  back_at=data.to_china(job.get("rolled_back_at")),
                  back_by=ui.escape_md(job.get("rolled_back_by") or t("unknown")),
                  back_to=ui.escape_md(job.get("rolled_back_to") or t("unknown"))))
    elif state["state"] == "promoted":
        st.success(t("models.retrain.was_promoted", version=ui.escape_md(job.get("version")),
                     at=data.to_china(job.get("promoted_at")), actor=ui.escape_md(job.get("promoted_by"))))

    n, rumours = data.training_labels(path) if data.database_exists(path) else (0, 0)
    st.caption(t("models.retrain.available", n=n, rumours=rumours))
    too_few = n < retrain.MIN_VERDICTS_TO_TRAIN
    if too_few:
        st.caption(t("models.retrain.too_few", minimum=retrain.MIN_VERDICTS_TO_TRAIN, n=n))
    if st.button(t("models.retrain.start"), disabled=too_few, type="primary"):
        started = act("model.retrain", retrain.start, models_dir, path, user["username"], n)
        if started is not None:
            st.success(t("models.retrain.started"))
            st.rerun()
    previous = data.read_json_file(retrain.previous_dir(models_dir) / MANIFEST_NAME)
    if previous:
        label = t("models.retrain.rollback", version=previous.get("version", t("unknown")))
        if st.button(label, help=t("models.retrain.rollback.help")):
            done = act("model.rollback", retrain.rollback, models_dir, user["username"])
            if done is not None:
                flash(t("models.retrain.rolled_back", version=ui.escape_md(done["version"]),
                        replaced=ui.escape_md(done["replaced"] or t("unknown"))))


def offline_evaluation() -> None:
    st.subheader(t("models.offline"))
    result_file = cards_dir / "rumour_eval.json"
    out = data.read_json_file(result_file)
    if out is None:
        st.info(t("models.offline.none", path=ui.escape_md(result_file)))
        return
    setup = out.get("setup") or {}
    fraction = float(setup.get("train_fraction") or 0.8)
    st.caption(t("models.offline.caption", train_pct=round(fraction * 100), test_pct=round((1 - fraction) * 100))
               + (t("models.offline.when", at=data.to_china(out["evaluated_at"])) if out.get("evaluated_at") else ""))
    model, baseline = (out.get("results") or {}).get("model") or {}, (out.get("results") or {}).get("baseline") or {}
    rows = []
    for name, by_hours in model.items():
        for hours in HOURS:
            m = by_hours.get(hours)
            if not m:
                continue
            b = (baseline.get(name) or {}).get(hours) or {}
            interval = m.get("interval") or {}  # absent from results written before intervals
            gain = (m["macro_f1"] - b["macro_f1"]) if m.get("macro_f1") is not None \
                and b.get("macro_f1") is not None else None
            rows.append({
                t("models.col.set"): set_name(name), t("models.col.hours"): t(f"models.hours.{hours}"),
                t("models.col.test_items"): m.get("n"), t("models.col.model_f1"): num(m.get("macro_f1")),
                t("models.col.model_f1_interval"): span(interval.get("macro_f1")),
                t("models.col.baseline_f1"): num(b.get("macro_f1")),
                t("models.col.gain"): ("—" if gain is None else f"{gain:+.3f}")
                + span(interval.get("gain_over_baseline"), signed=True, brackets=True),
                t("models.col.precision"): ui.pct(m.get("precision")),
                t("models.col.recall"): ui.pct(m.get("recall")), t("models.col.pr_auc"): num(m.get("pr_auc")),
                t("models.col.brier"): num(m.get("brier")), t("models.col.ece"): num(m.get("ece")),
            })
    if rows:  # every row in view: the table is the page's point
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch", height=36 * (len(rows) + 1) + 2)
        st.caption(t("models.offline.interval"))
    train, test = setup.get("train") or {}, setup.get("test") or {}
    if train:
        st.markdown(f"**{t('models.offline.windows')}**")
        st.dataframe(pd.DataFrame([{
            t("models.col.set"): set_name(name),
            t("models.col.train"): f"{w.get('from', '')} – {w.get('to', '')}（{w.get('items', 0):,} 条）",
            t("models.col.test"): (f"{test[name].get('from', '')} – {test[name].get('to', '')}"
                                   f"（{test[name].get('items', 0):,} 条）") if name in test else "",
        } for name, w in train.items()]), hide_index=True, width="content")
    plot = cards_dir / "rumour_reliability.png"
    card = cards_dir / "rumour.md"
    if plot.is_file():
        with st.expander(t("models.offline.reliability")):
            st.image(str(plot))
    if card.is_file():
        with st.expander(t("models.offline.card")):
            # Our own generated file (rumourwatch evaluate), not scraped text: rendered as Markdown.
            st.markdown(card.read_text(encoding="utf-8").replace("](rumour_reliability.png)", "]()"))


def versions() -> None:
    st.subheader(t("models.versions"))
    st.caption(t("models.versions.caption"))
    rows = data.model_versions(path) if data.database_exists(path) else []
    if not rows:
        st.info(t("models.versions.none"))
        return
    st.dataframe(pd.DataFrame([{
        t("models.col.version"): r["version"], t("models.col.registered"): data.to_china(r["registered_at"]),
        t("models.metric.threshold"): num(r["manifest"].get("threshold"), 2)
        if isinstance(r["manifest"].get("threshold"), (int, float)) else "—",
        t("models.col.trained_until"): "；".join(f"{set_name(k)} {data.to_china(v, '%Y-%m-%d') or v}"
                                                for k, v in (r["manifest"].get("trained_until") or {}).items()),
    } for r in rows]), hide_index=True, width="stretch")


if FLASH_KEY in st.session_state:
    st.success(st.session_state.pop(FLASH_KEY))
for section in (current_model, live_agreement, retraining, offline_evaluation, versions):
    with ui.friendly_errors():  # a section that cannot be read says why; the others still show
        try:
            section()
        except data.FileUnreadable as exc:
            show_error(exc, "models.file_error")
