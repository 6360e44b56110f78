"""The analyst notebook runs from top to bottom (so it never rots), on a fresh models dir."""

from __future__ import annotations

import re

import nbformat
from nbclient import NotebookClient

from rumourwatch.config import REPO_ROOT

NOTEBOOK = REPO_ROOT / "training" / "notebooks" / "analyst_walkthrough.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


def test_analyst_notebook_runs(tmp_path, monkeypatch):
    from tests.conftest import DATA_DIR

    monkeypatch.setenv("RUMOURWATCH_MODELS_DIR", str(tmp_path / "models"))  # trains the quick bundle
    monkeypatch.setenv("RUMOURWATCH_DATA_DIR", str(DATA_DIR))
    monkeypatch.delenv("MPLBACKEND", raising=False)  # the kernel's inline backend shows figures
    nb = nbformat.read(NOTEBOOK, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(REPO_ROOT)}}).execute()
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "training a quick rumour-only bundle" in text and "version:" in text
    # ... in a scratch folder: a rumour-only bundle in the models dir would be what the dashboard
    # and the worker load next, scoring no polarity, relevance or "already debunked"
    assert "saved in the scratch folder" in text
    assert not (tmp_path / "models").exists() or not any((tmp_path / "models").iterdir())
    tables = "".join(o.get("data", {}).get("text/markdown", "") for o in outputs
                     if o.output_type == "execute_result")
    assert "| ced | 6h |" in tables
    assert sum("image/png" in o.get("data", {}) for o in outputs if o.output_type == "display_data") >= 2
    frames = "".join(o.get("data", {}).get("text/plain", "") for o in outputs
                     if o.output_type == "execute_result")
    # the polarity and relevance sections' tables, with figures in them
    assert "production recipe (cross-fitted)" in frames and "usual_eval" in frames
    assert "training part → hold-out" in frames and "topic_accuracy_on_health_items" in frames
    assert "titles alone, baseline" in frames and "keyword-drawn hold-out" in frames
    # each held-out figure with its bootstrap interval, the rumour table's included
    assert "gain over the training file alone, 95% interval" in frames
    assert "health accuracy gain, 95% interval" in frames
    assert "model macro-F1 (95% interval)" in tables
    # the explanation's parts add up to the score shown (as log-odds)
    total = re.search(r"sum of the parts\s+(-?[\d.]+)", frames)
    shown = re.search(r"log-odds of the score shown\s+(-?[\d.]+)", frames)
    assert total and shown and total.group(1) == shown.group(1)
