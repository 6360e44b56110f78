"""The model bundle: every scoring component in one artifact, with a manifest that vouches for it.

`models_dir/` holds `rumourwatch-models.pkl` and `manifest.json` (version, created_at, git commit,
library versions, training files with their sha256, metrics, threshold, artifact sha256).
`ModelBundle.load` opens only that artifact, and only when its sha256 matches the manifest and it
was written by the scikit-learn installed here: pickles run code when loaded, so a file we cannot
vouch for is refused with ModelError instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import pickle
import platform
import subprocess
import tempfile
from datetime import datetime, timezone
from pathlib import Path

from ..errors import ModelError
from ..records import Doc

ARTIFACT_NAME = "rumourwatch-models.pkl"
MANIFEST_NAME = "manifest.json"
FORMAT = 12  # 2: a text-only model stacked beside the joint one; 3: the account track record;
# 4: polarity is a TF-IDF SVM + NB-SVM pair (a format-3 polarity pickle would not score);
# 5: the rumour model's reaction-level model (RepostModel) feeds its calibrator;
# 6: RepostModel's summary marks items whose reactions have no words of their own (2 columns);
# 7: the calibrator weighs the reacting accounts' track records (one more column);
# 8: the polarity SVM also reads PolarityPriors (lexicon, emoticon- and review-trained margins);
# 9: the rumour model reads reactions without the separator a scraper leaves before their words;
# 10: it reads a run of @mentions as one; 11: RepostModel's summary is drawn towards 0 for few reactions;
# 12: boosted trees correct the calibrated log-odds of items with reactions (RumourModel.pattern_trees_)
COMPONENTS = ("rumour", "polarity", "relevance", "debunks")
TRAIN_COMMAND = "python -m training.train"  # also `rumourwatch demo`, which trains when absent


def library_versions() -> dict:
    import jieba
    import numpy
    import scipy
    import sklearn

    return {"python": platform.python_version(), "sklearn": sklearn.__version__,
            "numpy": numpy.__version__, "scipy": scipy.__version__, "jieba": jieba.__version__}


def git_commit(repo: Path | None = None) -> str | None:
    repo = repo or Path(__file__).resolve().parents[2]
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True,
                             text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    commit = out.stdout.strip()
    if out.returncode != 0 or not commit:
        return None
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=repo,
                           capture_output=True, text=True, timeout=10).stdout.strip()
    return commit + ("-dirty" if dirty else "")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class ModelBundle:
    """The components {rumour, polarity, relevance, debunks} and the manifest they came with.

    Missing components (not trained yet) are None; their outputs are None in `score`.
    """

    def __init__(self, components: dict, manifest: dict | None = None):
        unknown = set(components) - set(COMPONENTS)
        if unknown:
            raise ValueError(f"unknown components {sorted(unknown)}; expected {COMPONENTS}")
        self.components = {name: components.get(name) for name in COMPONENTS}
        self.manifest = dict(manifest or {})

    # -- components -------------------------------------------------------------------------
    @property
    def rumour(self):
        return self.components["rumour"]

    @property
    def polarity(self):
        return self.components["polarity"]

    @property
    def relevance(self):
        return self.components["relevance"]

    @property
    def debunks(self):
        return self.components["debunks"]

    @property
    def version(self) -> str:
        return self.manifest.get("version") or "unsaved"

    @property
    def threshold(self) -> float:
        if "threshold" in self.manifest:
            return float(self.manifest["threshold"])
        return float(getattr(self.rumour, "threshold_", 0.5))

    @property
    def holdout(self) -> dict | None:
        """Per dataset, the time after which items were not used in training (for the replay)."""
        value = self.manifest.get("trained_until")
        return dict(value) if isinstance(value, dict) else None

    # -- scoring ----------------------------------------------------------------------------
    def score(self, docs: list[Doc]) -> list[dict]:
        """One dict per doc: rumour_probability, is_rumour, polarity, polarity_scores,
        health_probability, health_related, topic, model_version (None where a component is absent)."""
        docs = list(docs)
        for i, d in enumerate(docs):
            if not isinstance(d, Doc):
                raise TypeError(f"docs[{i}] is a {type(d).__name__}, expected rumourwatch.records.Doc")
        out = [{"rumour_probability": None, "is_rumour": None, "polarity": None,
                "polarity_scores": None, "health_probability": None, "health_related": None,
                "topic": None, "model_version": self.version} for _ in docs]
        if not docs:
            return out
        if self.rumour is not None:
            threshold = self.threshold
            for row, p in zip(out, self.rumour.rumour_probability(docs)):
                row["rumour_probability"] = float(p)
                row["is_rumour"] = bool(p >= threshold)
        for name in ("polarity", "relevance"):
            component = self.components[name]
            if component is None:
                continue
            for row, extra in zip(out, component.predict_docs(docs)):
                row.update({k: v for k, v in extra.items() if k != "model_version"})
        return out

    def explain(self, doc: Doc, top: int = 10) -> dict:
        """Words of the text and of the reactions that pushed the rumour score up (see explain.py)."""
        from .explain import explain_rumour

        if self.rumour is None:
            raise ModelError(f"the bundle has no rumour model; run `{TRAIN_COMMAND}`")
        return explain_rumour(self.rumour, doc, top=top)

    def match_debunks(self, texts: list[str], k: int = 3) -> list[list] | None:
        """Closest published clarifications per text (M3's index); None when it is not trained."""
        if self.debunks is None:
            return None
        return self.debunks.match(list(texts), k)

    def __repr__(self) -> str:
        present = [n for n in COMPONENTS if self.components[n] is not None]
        return f"ModelBundle(version={self.version!r}, components={present})"

    # -- persistence ------------------------------------------------------------------------
    @classmethod
    def load(cls, models_dir: str | Path) -> "ModelBundle":
        return load(models_dir)

    def save(self, models_dir: str | Path, **manifest_fields) -> Path:
        return save(self, models_dir, **manifest_fields)


def _refuse(what: str, retrainable: bool = False) -> ModelError:
    return ModelError(f"{what}; run `{TRAIN_COMMAND}` to train and save the models", retrainable)


def manifest_stamp(models_dir: str | Path) -> tuple | None:
    """What changes whenever a bundle is saved or swapped into `models_dir` (its manifest file's
    mtime, size and inode; the manifest is written last), None when there is none: a cheap test
    for "were new models put here?"."""
    try:
        st = (Path(models_dir) / MANIFEST_NAME).stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def check(models_dir: str | Path) -> dict:
    """The manifest of the bundle saved in `models_dir` once the artifact is checked against it
    (present, same sha256, same scikit-learn); ModelError saying what is wrong otherwise. Cheap next
    to `load`: nothing is unpickled."""
    models_dir = Path(models_dir)
    manifest_path = models_dir / MANIFEST_NAME
    artifact_path = models_dir / ARTIFACT_NAME
    if not manifest_path.exists():
        raise _refuse(f"no trained models in {models_dir}: {MANIFEST_NAME} is missing", retrainable=True)
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _refuse(f"model manifest {manifest_path} is unreadable ({exc})") from None
    if isinstance(manifest, dict) and isinstance(manifest.get("format"), int) and 0 < manifest["format"] < FORMAT:
        raise _refuse(f"the models in {models_dir} were saved by an older rumourwatch (format "
                      f"{manifest['format']}; this version reads format {FORMAT})", retrainable=True)
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise _refuse(f"model manifest {manifest_path} is not a rumourwatch manifest of format {FORMAT}")
    if not artifact_path.exists():
        raise _refuse(f"model artifact {artifact_path} is missing (the manifest is there)", retrainable=True)
    recorded = (manifest.get("artifact") or {}).get("sha256")
    actual = sha256_file(artifact_path)
    if recorded != actual:
        raise _refuse(f"model artifact {artifact_path} does not match its manifest "
                      f"(sha256 {actual[:12]}…, manifest says {str(recorded)[:12]}…): it was changed "
                      "or replaced after training and will not be loaded")
    import sklearn

    trained_with = (manifest.get("libraries") or {}).get("sklearn")
    if trained_with != sklearn.__version__:
        raise _refuse(f"model artifact {artifact_path} was trained with scikit-learn {trained_with}, "
                      f"this environment has {sklearn.__version__}")
    return manifest


def load(models_dir: str | Path) -> ModelBundle:
    """The bundle saved in `models_dir`, after checking it against its manifest (ModelError if not)."""
    manifest = check(models_dir)
    artifact_path = Path(models_dir) / ARTIFACT_NAME
    try:
        with open(artifact_path, "rb") as fh:
            components = pickle.load(fh)
    except Exception as exc:  # a verified file that still fails: incompatible code
        raise _refuse(f"model artifact {artifact_path} could not be loaded ({type(exc).__name__}: {exc})") from None
    if not isinstance(components, dict):
        raise _refuse(f"model artifact {artifact_path} does not hold a component mapping")
    return ModelBundle(components, manifest)


def save(bundle: ModelBundle, models_dir: str | Path, **manifest_fields) -> Path:
    """Write the artifact and its manifest (atomically: a reader never sees a half-written pair).

    `manifest_fields` (training_data, metrics, trained_until, notes…) are recorded as given.
    Returns the manifest path.
    """
    models_dir = Path(models_dir)
    models_dir.mkdir(parents=True, exist_ok=True)
    created = datetime.now(timezone.utc)
    commit = git_commit()
    fd, tmp_name = tempfile.mkstemp(dir=models_dir, prefix=".artifact-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(bundle.components, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp_name, 0o644)  # mkstemp makes it private; the dashboard may run as another user
        digest = sha256_file(Path(tmp_name))
        manifest = dict(bundle.manifest)
        manifest.update(manifest_fields)
        manifest.update({
            "format": FORMAT,
            "version": f"{created:%Y%m%dT%H%M%SZ}-{digest[:8]}",
            "created_at": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "git_commit": commit,
            "libraries": library_versions(),
            "artifact": {"file": ARTIFACT_NAME, "sha256": digest,
                         "bytes": Path(tmp_name).stat().st_size},
            "components": {n: (type(c).__name__ if c is not None else None)
                           for n, c in bundle.components.items()},
        })
        if bundle.rumour is not None and "threshold" not in manifest:
            manifest["threshold"] = float(bundle.rumour.threshold_)
            spread = getattr(bundle.rumour, "threshold_range_", None)
            if spread is not None and all(math.isfinite(v) for v in spread):
                manifest["threshold_range"] = list(spread)
        tmp_manifest = models_dir / (MANIFEST_NAME + ".tmp")
        tmp_manifest.write_text(json.dumps(manifest, ensure_ascii=False, indent=2, default=str),
                                encoding="utf-8")
        os.replace(tmp_name, models_dir / ARTIFACT_NAME)
        os.replace(tmp_manifest, models_dir / MANIFEST_NAME)
    finally:
        if os.path.exists(tmp_name):
            os.unlink(tmp_name)
    bundle.manifest = manifest
    return models_dir / MANIFEST_NAME
