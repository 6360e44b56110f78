"""Replay throughput and memory: play the bundle in fast mode and print events/s and peak memory.

Usage: python bench/bench_sources_replay.py [DATASETS] [--trace]
  DATASETS  e.g. stream (default) or stream,checked,ced,debunks
  --trace   also measure the Python heap peak with tracemalloc (a slow second run)
Reads the data bundle at RUMOURWATCH_DATA_DIR (default ../shared/data). Prints figures; asserts none.
"""

import resource
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rumourwatch.config import load_settings
from rumourwatch.sources import RawItem, ReplaySource


def run(datasets: tuple[str, ...], trace: bool) -> None:
    settings = load_settings()
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    source = ReplaySource.fast(settings.data_dir, datasets=datasets)
    items = reactions = 0
    last = None
    for event in source.read(None):
        if isinstance(event, RawItem):
            items += 1
        else:
            reactions += 1
        last = event.position
    elapsed = time.perf_counter() - t0
    total = items + reactions
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else float("nan")
    if trace:
        tracemalloc.stop()
    print(f"{'+'.join(datasets):32s} items={items:7d} reactions={reactions:7d} "
          f"{elapsed:6.1f} s  {total / elapsed:8.0f} events/s  "
          f"python heap peak={peak:6.1f} MB (traced run is slower)" if trace else
          f"{'+'.join(datasets):32s} items={items:7d} reactions={reactions:7d} "
          f"{elapsed:6.1f} s  {total / elapsed:8.0f} events/s")
    if not trace and total > 1000:
        # Resume cost: a restarted worker re-plays the sequence up to its checkpoint.
        n = total // 2
        checkpoint = last.replace(f"n={total}", f"n={n}")
        t0 = time.perf_counter()
        rest = sum(1 for _ in ReplaySource.fast(settings.data_dir, datasets=datasets)
                   .read(checkpoint))
        print(f"{'':32s} resume at n={n}: {time.perf_counter() - t0:.1f} s for the remaining {rest}")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    chosen = tuple(args[0].split(",")) if args else ("stream",)
    run(chosen, trace=False)
    if "--trace" in sys.argv:
        run(chosen, trace=True)
    print(f"max RSS of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
