"""Source adapters: files, feeds, a drop folder and the bundle replay, all behind `base.Source`.

`source_from_spec` turns the short specs used by the CLI and config into a source:

  file:PATH                       JSON Lines or CSV file (by suffix; .gz or gzip content read too)
  feed:URL                        RSS / Atom feed over HTTP(S)
  api:CONFIG.toml                 a cursor-paged JSON API of posts, described by a TOML file (api.py)
  drop:FOLDER                     drop folder of .jsonl / .csv files (moved to done/ when committed)
  replay                          the data bundle replayed at settings.replay_speed
  replay:speed=120,limit=500,datasets=stream+checked,seed=1
"""

from __future__ import annotations

from ..config import REPO_ROOT
from ..errors import SourceError
from .api import ApiSource
from .base import Event, RawItem, RawReaction, RawReject, Source, SourceStatus
from .dropfolder import DropFolderSource
from .feeds import FeedSource
from .files import CsvSource, JsonLinesSource, file_source
from .replay import DATASET_FILES, ReplaySource, hand_labelled

SPEC_HELP = ("use file:PATH, feed:URL, api:CONFIG.toml, drop:FOLDER, replay or "
             "replay:speed=120,limit=500,datasets=stream+checked")


def _replay_options(text: str) -> dict:
    options: dict = {}
    for piece in filter(None, (p.strip() for p in text.split(","))):
        key, sep, value = piece.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not value:
            raise SourceError(f"replay option {piece!r} must look like name=value; {SPEC_HELP}")
        try:
            if key == "speed":
                options["speed"] = float(value)
            elif key in ("limit", "seed"):
                options[key] = int(value)
            elif key == "datasets":
                options["datasets"] = tuple(d for d in value.replace("+", " ").split() if d)
            elif key == "start":
                options["start"] = value
            elif key == "history":
                options["history"] = float(value)
            else:
                raise SourceError(f"unknown replay option {key!r}; options are speed, limit, "
                                  f"seed, datasets ({'+'.join(DATASET_FILES)}), start, history")
        except ValueError:
            raise SourceError(f"replay option {key} must be a number, got {value!r}") from None
    return options


HOLDOUT_MANIFEST_KEYS = ("holdout", "train_until", "trained_until")


def holdout_from_bundle(bundle) -> dict | None:
    """Replay cutoffs {dataset: time} from a model bundle: `bundle.holdout`, else the first of
    `HOLDOUT_MANIFEST_KEYS` in `bundle.manifest` whose value is such a dict; None when absent."""
    if bundle is None:
        return None
    direct = getattr(bundle, "holdout", None)
    if isinstance(direct, dict):
        return direct
    manifest = getattr(bundle, "manifest", None) or {}
    for key in HOLDOUT_MANIFEST_KEYS:
        value = manifest.get(key) if isinstance(manifest, dict) else None
        if isinstance(value, dict):
            return {k: v for k, v in value.items() if k in DATASET_FILES}
    return None


# Every hand-label file the relevance model learns from (the random rounds, then the round drawn
# by topic keywords): training.train_relevance.LABEL_FILES names the same files.
HAND_LABELS = REPO_ROOT / "data" / "labels" / "health_topic.csv"
TARGETED_HAND_LABELS = REPO_ROOT / "data" / "labels" / "health_topic_targeted.csv"
HAND_LABEL_FILES = (HAND_LABELS, TARGETED_HAND_LABELS)


def trained_on_by_hand(bundle) -> frozenset:
    """The hand-labelled items a bundle's relevance model was trained on (none without one), so a
    replay for that bundle leaves them out."""
    components = getattr(bundle, "components", None) or {}
    if not components.get("relevance"):
        return frozenset()
    return frozenset().union(*(hand_labelled(path) for path in HAND_LABEL_FILES if path.is_file()))


def source_from_spec(spec: str, settings, *, bundle=None, platform: str | None = None,
                     holdout: dict | None = None) -> Source:
    """The source a spec names (see the module docstring); SourceError for an unknown spec.

    `platform` fills records that name none (file and drop sources). The replay takes its
    holdout cutoffs from `holdout`, else from the model `bundle` (see `holdout_from_bundle`),
    so the demo replays only items the models were not trained on.
    """
    spec = (spec or "").strip()
    kind, sep, rest = spec.partition(":")
    kind = kind.strip().lower()
    rest = rest.strip()
    if kind == "file" and rest:
        return file_source(rest, platform=platform)
    if kind == "feed" and rest:
        return FeedSource(rest, **({"platform": platform} if platform else {}))
    if kind == "api" and rest:
        source = ApiSource(rest)
        if platform:
            source.platform = platform
        return source
    if kind == "drop" and rest:
        return DropFolderSource(rest, platform=platform)
    if kind == "replay":
        options = _replay_options(rest)
        options.setdefault("speed", float(getattr(settings, "replay_speed", 60.0)))
        if holdout is None:
            holdout = holdout_from_bundle(bundle)
        return ReplaySource(settings.data_dir, holdout=holdout, exclude=trained_on_by_hand(bundle), **options)
    raise SourceError(f"unknown source spec {spec!r}: {SPEC_HELP}")


__all__ = ["Source", "SourceStatus", "Event", "RawItem", "RawReaction", "RawReject",
           "JsonLinesSource", "CsvSource", "file_source", "FeedSource", "ApiSource", "DropFolderSource",
           "ReplaySource", "source_from_spec", "holdout_from_bundle", "SPEC_HELP"]
