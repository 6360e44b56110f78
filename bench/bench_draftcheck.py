"""Benchmark: 稿件自查 (rumourwatch.draftcheck) over the bundle's 5,732 published debunk articles,
read as drafts (title, body; no references, no claim given): how often each check warns on
clarifications that real platforms published, the sentence-length distribution its thresholds
are set against, and the time per article. Prints figures.

    python bench/bench_draftcheck.py [--limit N]

Needs the data bundle (RUMOURWATCH_DATA_DIR). The references and claim checks warn on every
article here (the articles carry neither as fields): their rows say so, not how drafts fare.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rumourwatch import draftcheck  # noqa: E402
from rumourwatch.config import load_settings  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=int, default=None, help="at most this many articles")
    args = ap.parse_args()
    settings = load_settings()
    t = time.perf_counter()
    vocab = draftcheck.vocabulary(str(settings.data_dir))
    vocab.terms("预热")  # jieba builds its dictionary on first use
    print(f"vocabulary: {len(vocab.rare):,} rare medical terms, loaded in {time.perf_counter() - t:.2f} s")
    path = Path(settings.data_dir) / "debunks/debunk_articles.jsonl.gz"
    with gzip.open(path, "rt", encoding="utf-8") as f:
        articles = [json.loads(line) for line in f][:args.limit]
    warned, means, long_shares, elapsed = Counter(), [], [], 0.0
    for a in articles:
        body = a.get("text") or ""
        t = time.perf_counter()
        checks = draftcheck.check_draft(a.get("title") or "", body, "", None, vocab=vocab)
        elapsed += time.perf_counter() - t
        warned.update(c.key for c in checks if c.warns)
        sentences = [s.strip() for s in draftcheck._SENTENCE_END.split(draftcheck._URL.sub("", body)) if s.strip()]
        if sentences:
            means.append(sum(map(len, sentences)) / len(sentences))
            long_shares.append(sum(len(s) > draftcheck.LONG_SENTENCE for s in sentences) / len(sentences))
    n = len(articles)
    print(f"{n:,} published debunk articles, {elapsed / n * 1000:.1f} ms each")
    print("share of the articles each check warns on:")
    for key, count in warned.most_common():
        note = "  (no field for it in the articles)" if key in ("references", "claim") else ""
        print(f"  {key:<10} {count / n:6.1%}{note}")
    deciles = statistics.quantiles(means, n=10)
    print(f"mean sentence length (characters): 10th percentile {deciles[0]:.0f}, median {statistics.median(means):.0f}, "
          f"90th {deciles[-1]:.0f}; threshold {draftcheck.MAX_MEAN_SENTENCE}")
    print(f"share of sentences over {draftcheck.LONG_SENTENCE} characters: median {statistics.median(long_shares):.0%}, "
          f"90th percentile {statistics.quantiles(long_shares, n=10)[-1]:.0%}; threshold {draftcheck.MAX_LONG_SHARE:.0%}")


if __name__ == "__main__":
    main()
