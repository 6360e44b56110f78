"""Retraining on the monitors' verdicts from the dashboard: a candidate bundle is trained in the
background beside the models in use, the analyst compares it with them, and puts it in use; the
models it replaces are kept, so one step puts them back.

Layout, inside the models directory in use (`models_dir`):

    candidate/   the candidate: job.json (who started it, when, how), train.log, result.json
                 (written when the job ends: ok, or the error), then the bundle (manifest.json +
                 rumourwatch-models.pkl) that `training.train.train_all` saves there
    previous/    the bundle that was in use before the last promotion (for `rollback`)

The job runs as its own process (`python -m rumourwatch.retrain`), so a dashboard restart does not
stop it, and training memory is never the dashboard's. A running worker (`rumourwatch watch`) picks
up the promoted bundle at its next poll (`Worker.reload_models`).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path

from .alerts import WorkflowError
from .config import REPO_ROOT, load_settings
from .errors import ModelError
from .records import iso

CANDIDATE, PREVIOUS = "candidate", "previous"
JOB_FILE, LOG_FILE, RESULT_FILE = "job.json", "train.log", "result.json"
MIN_VERDICTS_TO_TRAIN = 10  # fewer judged items teach the model nothing it can be checked on
LOG_TAIL_LINES = 40


class RetrainError(WorkflowError):
    """A retraining step that cannot be taken now; the message says why and what to do (in English;
    `key` and `params` name the dashboard's Chinese text, as for every WorkflowError)."""


def candidate_dir(models_dir) -> Path:
    return Path(models_dir) / CANDIDATE


def previous_dir(models_dir) -> Path:
    return Path(models_dir) / PREVIOUS


def _read_json(path: Path) -> dict | None:
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return value if isinstance(value, dict) else None


def _write_json(path: Path, value: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)


def _started(pid: int) -> str | None:
    """When process `pid` started (clock ticks since boot, from /proc), to tell the job's process from
    a later one that got the same pid (e.g. after a reboot); None where /proc is not there."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[-1].split()[19]  # field 22; the name in parentheses may hold spaces


def _alive(pid, started: str | None = None) -> bool:
    if not isinstance(pid, int) or pid <= 0:
        return False
    if started is not None and _started(pid) not in (None, started):
        return False  # the pid now belongs to another process
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    # a finished child of this very process stays a zombie until reaped: reap it, then it is gone
    try:
        done, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:  # not our child: kill(0) said it exists
        return True
    return done == 0


def _tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _failure(result: dict) -> str:
    """What kind of failure a job's result records, for the page to say what to do: "memory",
    "data" (the bundle), "disk" (the models directory) or "error" (anything else)."""
    error = result.get("error") or ""
    kind = result.get("error_type") or error.partition(":")[0]  # results before error_type: "Type: …"
    if kind == "MemoryError":
        return "memory"
    if kind == "DataBundleError":
        return "data"
    if kind == "PermissionError" or "No space left on device" in error:
        return "disk"
    return "error"


def status(models_dir) -> dict:
    """The candidate's state: {"state": "none" | "running" | "failed" | "ready" | "promoted", "job",
    "result", "manifest" (the candidate's, once ready), "log" (last lines), "error" (English) and
    "failure" (a failed job's kind: "crashed", "invalid" or one of `_failure`'s)}."""
    cand = candidate_dir(models_dir)
    job = _read_json(cand / JOB_FILE)
    out = {"state": "none", "job": job, "result": None, "manifest": None, "log": "", "error": None,
           "failure": None}
    if job is None:
        return out
    out["log"] = _tail(cand / LOG_FILE)
    result = _read_json(cand / RESULT_FILE)
    out["result"] = result
    if job.get("promoted_at"):
        out["state"] = "promoted"
    elif result is None:
        if _alive(job.get("pid"), job.get("process_started")):
            out["state"] = "running"
        else:
            out["state"], out["error"] = "failed", "the training process ended without a result (killed or crashed)"
            out["failure"] = "crashed"
    elif not result.get("ok"):
        out["state"], out["error"] = "failed", result.get("error") or "training failed"
        out["failure"] = _failure(result)
    else:
        from .nlp.bundle import check

        try:
            out["manifest"] = check(cand)
            out["state"] = "ready"
        except ModelError as exc:
            out["state"], out["error"], out["failure"] = "failed", str(exc), "invalid"
    return out


def start(models_dir, db_path, actor: str, verdicts: int, quick: bool = False,
          now: datetime | None = None) -> dict:
    """Start training a candidate on the data bundle plus the verdicts in `db_path`, in the
    background. `verdicts` is how many judged items the caller found (checked against
    MIN_VERDICTS_TO_TRAIN). The candidate keeps the train fraction of the models in use (a demo's
    models leave the replayed part unseen). Returns the job record."""
    models_dir = Path(models_dir)
    current = status(models_dir)
    if current["state"] == "running":
        raise RetrainError(f"a retraining started by {current['job'].get('actor')} at "
                           f"{current['job'].get('started_at')} is still running; wait for it to finish", "retrain_running",
                           actor=current["job"].get("actor"), at=current["job"].get("started_at"))
    if verdicts < MIN_VERDICTS_TO_TRAIN:
        raise RetrainError(f"only {verdicts} items have a verdict of rumour / not a rumour; retraining needs "
                           f"at least {MIN_VERDICTS_TO_TRAIN}", "retrain_too_few", n=verdicts,
                           minimum=MIN_VERDICTS_TO_TRAIN)
    if not Path(db_path).is_file():
        raise RetrainError(f"database {db_path} does not exist", "retrain_no_database", path=str(db_path))
    from .nlp.bundle import MANIFEST_NAME

    in_use = _read_json(models_dir / MANIFEST_NAME) or {}
    fraction = in_use.get("train_fraction")
    fraction = float(fraction) if isinstance(fraction, (int, float)) and 0 < fraction <= 1 else 1.0
    cand = candidate_dir(models_dir)
    shutil.rmtree(cand, ignore_errors=True)
    try:
        cand.mkdir(parents=True)
    except OSError as exc:
        raise RetrainError(f"cannot create the candidate directory {cand}: {exc}; the dashboard needs write "
                           "access to the models directory to retrain", "retrain_no_write",
                           path=str(models_dir)) from None
    job = {"actor": actor, "started_at": iso(now or datetime.now(UTC)), "verdicts_db": str(db_path),
           "verdicts": int(verdicts), "train_fraction": fraction, "quick": bool(quick),
           "replaces": in_use.get("version")}
    cmd = [sys.executable, "-m", "rumourwatch.retrain", str(cand), "--verdicts", str(db_path),
           "--train-fraction", repr(fraction)] + (["--quick"] if quick else [])
    env = dict(os.environ, RUMOURWATCH_MODELS_DIR=str(cand), PYTHONUNBUFFERED="1")
    with open(cand / LOG_FILE, "wb") as log:
        proc = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)
    job["pid"], job["process_started"] = proc.pid, _started(proc.pid)
    _write_json(cand / JOB_FILE, job)
    return job


def promote(models_dir, actor: str, now: datetime | None = None) -> dict:
    """Put the ready candidate in use; the bundle it replaces moves to previous/. Returns
    {"version", "replaced"}."""
    models_dir = Path(models_dir)
    current = status(models_dir)
    if current["state"] != "ready":
        raise RetrainError(f"there is no candidate ready to put in use (state: {current['state']}"
                           + (f": {current['error']}" if current["error"] else "") + ")", "retrain_not_ready")
    cand = candidate_dir(models_dir)
    _, replaced = _swap_in(models_dir, cand)
    job = dict(current["job"], promoted_at=iso(now or datetime.now(UTC)), promoted_by=actor,
               version=current["manifest"].get("version"))
    _write_json(cand / JOB_FILE, job)
    return {"version": job["version"], "replaced": replaced}


def discard(models_dir) -> dict:
    """Remove a candidate that is not running (ready, failed or already put in use)."""
    current = status(models_dir)
    if current["state"] == "running":
        raise RetrainError("the candidate is still training; it cannot be discarded until the job ends",
                           "retrain_still_training")
    shutil.rmtree(candidate_dir(models_dir), ignore_errors=True)
    return {"version": (current["manifest"] or {}).get("version")}


def rollback(models_dir, actor: str | None = None, now: datetime | None = None) -> dict:
    """Put the bundle in previous/ back in use (the one it replaces takes its place in previous/).
    When that takes a promoted candidate out of use, its job record says so (who, when, and which
    version came back), so nobody reads "put in use" of a model that no longer is.
    Returns {"version", "replaced"}."""
    models_dir = Path(models_dir)
    try:
        manifest, replaced = _swap_in(models_dir, previous_dir(models_dir))
    except ModelError as exc:
        raise RetrainError(f"no earlier models to go back to: {exc}", "retrain_no_previous") from None
    current = status(models_dir)
    if current["state"] == "promoted":
        job = dict(current["job"])
        if job.get("version") == replaced:
            job.update(rolled_back_at=iso(now or datetime.now(UTC)), rolled_back_by=actor,
                       rolled_back_to=manifest.get("version"))
        else:  # the candidate is back in use (a rollback of the rollback)
            for key in ("rolled_back_at", "rolled_back_by", "rolled_back_to"):
                job.pop(key, None)
        _write_json(candidate_dir(models_dir) / JOB_FILE, job)
    return {"version": manifest.get("version"), "replaced": replaced}


def _swap_in(models_dir: Path, source: Path) -> tuple[dict, str | None]:
    """Move the bundle in `source` into `models_dir`, the one there into previous/ (swapping when
    `source` is previous/ itself); returns (the manifest swapped in, the version it replaced).
    Artifact first, manifest last, as `bundle.save` writes them: a reader between the two sees a
    hash mismatch and refuses, never a wrong pairing."""
    from .nlp.bundle import ARTIFACT_NAME, MANIFEST_NAME, check

    manifest = check(source)  # never swap in something that would be refused (ModelError)
    replaced = (_read_json(models_dir / MANIFEST_NAME) or {}).get("version")
    staging = models_dir / ".outgoing"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    for name in (ARTIFACT_NAME, MANIFEST_NAME):
        if (models_dir / name).exists():
            shutil.copy2(models_dir / name, staging / name)
    for name in (ARTIFACT_NAME, MANIFEST_NAME):
        os.replace(source / name, models_dir / name)
    prev = previous_dir(models_dir)
    prev.mkdir(exist_ok=True)
    for name in (ARTIFACT_NAME, MANIFEST_NAME):
        if (staging / name).exists():
            os.replace(staging / name, prev / name)
    shutil.rmtree(staging, ignore_errors=True)
    return manifest, replaced


def main(argv=None) -> int:
    """The background job: train into the candidate directory, then write result.json."""
    parser = argparse.ArgumentParser(prog="python -m rumourwatch.retrain")
    parser.add_argument("candidate")
    parser.add_argument("--verdicts", required=True)
    parser.add_argument("--train-fraction", type=float, default=1.0)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    cand = Path(args.candidate)
    try:
        from training.train import QUICK_RUMOUR, train_all

        settings = load_settings(models_dir=str(cand))
        bundle = train_all(settings, echo=lambda m: print(m, flush=True), train_fraction=args.train_fraction,
                           rumour_config=QUICK_RUMOUR if args.quick else None, verdicts_db=args.verdicts)
        result = {"ok": True, "version": bundle.version}
    except Exception as exc:  # noqa: BLE001 (the job's outcome must reach the page whatever went wrong)
        traceback.print_exc()
        result = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "error_type": type(exc).__name__}
    result["finished_at"] = iso(datetime.now(UTC))
    _write_json(cand / RESULT_FILE, result)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
