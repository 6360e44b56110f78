"""Only our own model artifacts load, from the configured directory, verified against their recorded
sha256 (rumourwatch/nlp/bundle.py). A pickle runs code when loaded, so the proof that a foreign or
tampered file is refused is that its payload never runs."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from click.testing import CliRunner

from rumourwatch.cli import cli
from rumourwatch.config import load_settings
from rumourwatch.errors import ModelError
from rumourwatch.nlp.bundle import ARTIFACT_NAME, MANIFEST_NAME, ModelBundle


class Payload:
    """What an attacker would ship: unpickling it creates the marker file (harmless stand-in)."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture
def models_dir(tmp_path):
    path = tmp_path / "models"
    ModelBundle({"rumour": None, "polarity": None, "relevance": None, "debunks": None}).save(path)
    return path


def _malicious_pickle(marker: Path) -> bytes:
    return pickle.dumps({"rumour": Payload(marker)})


def test_own_artifact_loads(models_dir):
    loaded = ModelBundle.load(models_dir)
    assert loaded.version == json.loads((models_dir / MANIFEST_NAME).read_text())["version"]


def test_foreign_pickle_in_the_models_dir_is_refused_and_never_runs(models_dir, tmp_path):
    marker = tmp_path / "payload-ran"
    (models_dir / ARTIFACT_NAME).write_bytes(_malicious_pickle(marker))
    with pytest.raises(ModelError, match="does not match its manifest"):
        ModelBundle.load(models_dir)
    assert not marker.exists()


def test_one_flipped_byte_is_refused(models_dir):
    artifact = models_dir / ARTIFACT_NAME
    data = bytearray(artifact.read_bytes())
    data[len(data) // 2] ^= 0x01
    artifact.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="changed or replaced after training"):
        ModelBundle.load(models_dir)


def test_manifest_without_a_hash_or_of_another_format_is_refused(models_dir, tmp_path):
    marker = tmp_path / "payload-ran"
    (models_dir / ARTIFACT_NAME).write_bytes(_malicious_pickle(marker))
    manifest = json.loads((models_dir / MANIFEST_NAME).read_text())
    manifest["artifact"].pop("sha256")
    (models_dir / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ModelError):
        ModelBundle.load(models_dir)
    manifest["format"] = 99
    (models_dir / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="not a rumourwatch manifest"):
        ModelBundle.load(models_dir)
    assert not marker.exists()


def test_artifact_with_another_name_beside_a_good_manifest_is_ignored(models_dir, tmp_path):
    # Only the artifact the manifest names is opened; a stray pickle in the directory is never read.
    marker = tmp_path / "payload-ran"
    (models_dir / "extra-model.pkl").write_bytes(_malicious_pickle(marker))
    ModelBundle.load(models_dir)
    assert not marker.exists()


def test_cli_uses_only_the_configured_models_dir_and_says_why_it_refuses(models_dir, tmp_path, monkeypatch):
    marker = tmp_path / "payload-ran"
    (models_dir / ARTIFACT_NAME).write_bytes(_malicious_pickle(marker))
    # A good bundle in the working directory must not be picked up instead of the configured one.
    ModelBundle({"rumour": None}).save(tmp_path / "cwd" / "models" / "artifacts")
    monkeypatch.chdir(tmp_path / "cwd")
    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(models_dir))
    posts = tmp_path / "posts.jsonl"
    posts.write_text('{"id": "1", "text": "喝醋能软化血管"}\n', encoding="utf-8")
    result = CliRunner().invoke(cli, ["score-file", str(posts), "-o", str(tmp_path / "out.jsonl")])
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: model artifact {models_dir / ARTIFACT_NAME} does not match its manifest")
    assert not marker.exists()
    assert not (tmp_path / "out.jsonl").exists() or (tmp_path / "out.jsonl").read_text() == ""


def test_the_payload_used_above_really_runs_when_unpickled(tmp_path):
    # Guards the tests above: if this stand-in stopped running on load, their "never ran" would mean nothing.
    marker = tmp_path / "payload-ran"
    pickle.loads(_malicious_pickle(marker))
    assert marker.exists()


def test_models_saved_by_an_older_rumourwatch_are_retrained_not_refused_silently(models_dir, monkeypatch):
    from rumourwatch.nlp import bundle as bundle_module
    from training import train

    manifest = json.loads((models_dir / MANIFEST_NAME).read_text())
    manifest["format"] = bundle_module.FORMAT - 1
    (models_dir / MANIFEST_NAME).write_text(json.dumps(manifest))
    with pytest.raises(ModelError, match="older rumourwatch") as refused:
        ModelBundle.load(models_dir)
    assert refused.value.retrainable
    retrained = []
    monkeypatch.setattr(train, "train_all", lambda settings, echo, train_fraction: retrained.append(
        settings.models_dir) or "new bundle")
    assert train.ensure_models(load_settings(models_dir=str(models_dir)), echo=lambda m: None) == "new bundle"
    assert retrained == [str(models_dir)]


def test_a_tampered_bundle_is_never_retrained_over(models_dir, monkeypatch):
    from training import train

    (models_dir / ARTIFACT_NAME).write_bytes(b"not the artifact that was trained")
    monkeypatch.setattr(train, "train_all", lambda *a, **k: pytest.fail("must not retrain over a tampered bundle"))
    with pytest.raises(ModelError, match="does not match its manifest"):
        train.ensure_models(load_settings(models_dir=str(models_dir)), echo=lambda m: None)
