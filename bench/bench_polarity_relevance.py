"""Scoring speed of the polarity and relevance models together, on one core.

Trains both on the bundle (about a minute), then scores stream posts in batches the way the
scorer does (polarity then relevance over the same docs) and prints docs per CPU-second and per
wall-second. CPU time is the fair figure on a shared machine.

    python bench/bench_polarity_relevance.py [N_DOCS]
"""

from __future__ import annotations

import gzip
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout

from rumourwatch.config import data_file, load_settings
from rumourwatch.records import Doc
from training import train_polarity, train_relevance


def main(n_docs: int = 20000, batch: int = 1000) -> None:
    settings = load_settings()
    polarity = train_polarity.fit(settings)
    relevance = train_relevance.fit(settings)
    docs = []
    with gzip.open(data_file(settings, "stream/covid_weibo_2020_sample.jsonl.gz"), "rt") as fh:
        for line in fh:
            docs.append(Doc(json.loads(line)["text"]))
            if len(docs) >= n_docs:
                break
    results = {}
    for name, models in (("polarity", [polarity]), ("relevance", [relevance]),
                         ("both", [polarity, relevance])):
        cpu, wall = time.process_time(), time.perf_counter()
        for i in range(0, len(docs), batch):
            chunk = docs[i:i + batch]
            for m in models:
                m.predict_docs(chunk)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        results[name] = (len(docs) / cpu, len(docs) / wall)
        print(f"{name:10s} {len(docs)} docs: {results[name][0]:8.0f} docs/CPU-s  "
              f"{results[name][1]:8.0f} docs/wall-s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
