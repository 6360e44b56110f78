"""Benchmark: the "already debunked" matcher on real stream posts. Prints figures.

    python bench/bench_knowledge.py [--texts 2000] [--runs 7]

Builds the DebunkIndex over the bundle's 5,732 debunk articles, then times `match(texts, k=5)`
on the first N posts of the stream (min and median of the runs, one process, one thread) and
reports the index's memory: its pickled size and its arrays.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import pickle
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")  # one core, as the worker runs it

from rumourwatch.config import data_file, load_settings
from training.build_debunk_index import STREAM, build


def timed(fn, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds of each run (CPU time is what a busy shared machine can't
    inflate much; wall time is what a user waits)."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--texts", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    settings = load_settings()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores "
          "(figures inflate when the machine is busy)")

    start = time.perf_counter()
    index = build(settings)
    print(f"fit: {len(index)} articles, {index.features:,} n-grams in {time.perf_counter() - start:.1f} s")

    texts = []
    with gzip.open(data_file(settings, STREAM), "rt", encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["text"])
            if len(texts) == args.texts:
                break
    mean_len = sum(map(len, texts)) / len(texts)
    index.match(texts[:10])  # first call builds the n-gram hash table
    for label, kwargs in (("match k=5", {}), ("match k=5 before=", {"before": datetime(2020, 3, 1)})):
        wall, cpu = timed(lambda kw=kwargs: index.match(texts, k=5, **kw), args.runs)
        print(f"{label}: {len(texts)} posts (mean {mean_len:.0f} chars): "
              f"wall min {min(wall) * 1000:.0f} ms / median {statistics.median(wall) * 1000:.0f} ms; "
              f"CPU min {min(cpu) * 1000:.0f} ms / median {statistics.median(cpu) * 1000:.0f} ms "
              f"({len(texts) / min(wall):,.0f} posts/s)")

    blob = pickle.dumps(index, protocol=pickle.HIGHEST_PROTOCOL)
    m = index.matrix_t
    arrays = {
        "article matrix": m.data.nbytes + m.indices.nbytes + m.indptr.nbytes,
        "n-gram hashes": index.vocab.nbytes,
        "idf": index.idf.nbytes,
    }
    print(f"pickled index: {len(blob) / 2**20:.1f} MiB")
    for name, nbytes in arrays.items():
        print(f"  {name}: {nbytes / 2**20:.1f} MiB")
    start = time.perf_counter()
    restored = pickle.loads(blob)
    restored.match(texts[:1])
    print(f"load (unpickle) + first match (builds hash table): {(time.perf_counter() - start) * 1000:.0f} ms")
    try:
        import resource
        print(f"peak RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    except ImportError:  # not on Windows
        pass


if __name__ == "__main__":
    main()
