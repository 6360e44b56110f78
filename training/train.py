"""Train every scoring component and save them as ONE model bundle: `python -m training.train`.

Components and the modules that train them (each exposes `fit(settings)`):
  rumour    training.train_rumour        (this package's rumour model)
  polarity  training.train_polarity      (opinion polarity)
  relevance training.train_relevance     (health relevance + topic)
  debunks   training.build_debunk_index  (published clarifications, "already debunked")
A component whose module is absent is left out, and the output says so; the bundle then scores
None for it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time

from rumourwatch.config import data_file, load_settings
from rumourwatch.errors import ModelError, RumourwatchError
from rumourwatch.nlp.bundle import COMPONENTS, ModelBundle, load, save
from rumourwatch.nlp.rumour import RumourConfig

from .datasets import file_sha256

TRAINERS = {
    "rumour": "training.train_rumour",
    "polarity": "training.train_polarity",
    "relevance": "training.train_relevance",
    "debunks": "training.build_debunk_index",
}
# Bundle files each component reads, recorded with their sha256 in the manifest.
DATA_FILES = {
    # the stream sample's ordinary posts are the rumour model's background (not-rumour) examples
    "rumour": ("rumour/checked_train.jsonl.gz", "rumour/ced_train.jsonl.gz", "lexicon/THUOCL_medical.txt",
               "stream/covid_weibo_2020_sample.jsonl.gz"),
    # the CED reactions' emoticons label the polarity model's distant-supervision examples
    "polarity": ("sentiment/smp2020_virus_train.jsonl.gz", "sentiment/smp2020_virus_eval.jsonl.gz",
                 "sentiment/smp2020_usual_eval.jsonl.gz", "rumour/ced_train.jsonl.gz"),
    "relevance": ("lexicon/THUOCL_medical.txt",),
    "debunks": ("debunks/debunk_articles.jsonl.gz",),
}


def _trainer(name: str):
    try:
        return importlib.import_module(TRAINERS[name])
    except ModuleNotFoundError as exc:
        if exc.name and TRAINERS[name].startswith(exc.name):
            return None
        raise


# `rumourwatch train --quick`: fewer hashed columns and decision-time copies than production
QUICK_RUMOUR = RumourConfig(n_features=1 << 17, cuts=(0.0, None))


def train_all(settings, echo=print, components=COMPONENTS, train_fraction: float = 1.0,
              rumour_config=None, verdicts_db=None) -> ModelBundle:
    """Train the components, save the bundle to `settings.models_dir`, return it.

    `train_fraction` < 1 trains the rumour model on the earliest part of each set only (the rest
    stays unseen, e.g. for a demo replay); the manifest's `trained_until` says where it stops.
    `verdicts_db` (a rumourwatch store) adds its items with a verdict to the rumour model's training,
    and the health relevance / topic labels analysts made in it to the relevance model's.
    """
    started = time.perf_counter()
    fitted, timings, missing = {}, {}, []
    for name in components:
        module = _trainer(name)
        if module is None or not hasattr(module, "fit"):
            missing.append(name)
            echo(f"[train] {name}: SKIPPED — {TRAINERS[name]} is not available; "
                 f"the bundle will score None for it")
            continue
        echo(f"[train] {name}: training ({TRAINERS[name]}.fit) …")
        t = time.perf_counter()
        if name == "rumour":
            fitted[name] = module.fit(settings, config=rumour_config, train_fraction=train_fraction,
                                      verdicts_db=verdicts_db, echo=echo)
        elif name == "relevance" and verdicts_db is not None:  # the analysts' labels in that store
            fitted[name] = module.fit(settings, labels_db=verdicts_db)
            echo(f"[train] relevance: {fitted[name].info.get('n_store_labels', 0)} labels from {verdicts_db}")
        else:
            fitted[name] = module.fit(settings)
        timings[name] = round(time.perf_counter() - t, 1)
        echo(f"[train] {name}: done in {timings[name]} s")
    files = {}
    for name, component in fitted.items():
        for rel in DATA_FILES.get(name, ()):
            if rel in files:  # read by another component too (CED: rumour and polarity)
                continue
            try:
                files[rel] = file_sha256(data_file(settings, rel))
            except RumourwatchError:
                pass
        # files a component read from elsewhere (the polarity priors' package data)
        files.update(getattr(component, "info", {}).get("prior_files", {}))
    rumour = fitted.get("rumour")
    metrics = {}
    if rumour is not None:
        metrics["rumour_calibration_slice"] = rumour.calibration_report_
    for name, obj in fitted.items():
        info = getattr(obj, "info", None)
        if isinstance(info, dict) and isinstance(info.get("metrics"), dict):
            metrics[name] = info["metrics"]
    bundle = ModelBundle(fitted)
    save(bundle, settings.models_dir, training_data=files, metrics=metrics,
         store_labels=getattr(fitted.get("relevance"), "info", {}).get("n_store_labels", 0),
         trained_until=getattr(rumour, "trained_until_", None),
         training_counts=getattr(rumour, "training_counts_", None),
         train_fraction=train_fraction, missing_components=missing,
         training_seconds=timings)
    total = time.perf_counter() - started
    echo(f"[train] saved {bundle.version} to {settings.models_dir} in {total:.0f} s "
         f"(components: {', '.join(fitted) or 'none'}"
         + (f"; missing: {', '.join(missing)}" if missing else "") + ")")
    if rumour is not None:
        low, high = rumour.threshold_range_
        echo(f"[train] rumour threshold {rumour.threshold_:.2f} (picked again on resamples of the calibration "
             f"slice: {low:.2f}–{high:.2f}); calibration-slice macro-F1: "
             + ", ".join(f"{k} {v['macro_f1']:.3f}" for k, v in rumour.calibration_report_.items()))
    return bundle


def ensure_models(settings, echo=print, train_fraction: float = 1.0) -> ModelBundle:
    """The saved bundle, or a freshly trained one when none is saved yet.

    A bundle saved by an older rumourwatch is retrained. One that is refused for any other reason
    (tampered, foreign, other scikit-learn) is NOT silently replaced: the ModelError propagates, so
    someone decides.
    """
    try:
        return load(settings.models_dir)
    except ModelError as exc:
        if not exc.retrainable:
            raise
        echo(f"[train] {exc}; training now (a few minutes) …")
    return train_all(settings, echo=echo, train_fraction=train_fraction)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m training.train", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", action="append", choices=COMPONENTS,
                        help="train only this component (repeatable)")
    parser.add_argument("--train-fraction", type=float, default=1.0,
                        help="rumour model: train on the earliest fraction of each set (default 1.0)")
    parser.add_argument("--models-dir", help="where to save (default: setting models_dir)")
    parser.add_argument("--verdicts", metavar="DB",
                        help="rumour model: also learn from the items of this rumourwatch database that "
                             "monitors and experts gave a verdict (rumour / not a rumour)")
    args = parser.parse_args(argv)
    overrides = {"models_dir": args.models_dir} if args.models_dir else {}
    try:
        settings = load_settings(**overrides)
        train_all(settings, components=tuple(args.only or COMPONENTS),
                  train_fraction=args.train_fraction, verdicts_db=args.verdicts)
    except RumourwatchError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
