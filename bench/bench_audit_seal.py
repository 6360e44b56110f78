"""Benchmark: the sealed audit log (rumourwatch.auditseal). Prints figures.

    python bench/bench_audit_seal.py [--writes 20000] [--entries 200000]

What sealing costs each audited action (`store.record_audit` in its own transaction, without and
with a key), and how long verifying a log of --entries takes (`rumourwatch audit --verify`, and
`rumourwatch check` every 30 minutes). A scratch store in a temporary directory; nothing is kept.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rumourwatch import auditseal, store  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=20000)
    parser.add_argument("--entries", type=int, default=200000)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-seal-"))
    key = auditseal.new_key_file(tmp / "audit.key")
    db = store.open_db(tmp / "bench.db")
    details = {"reason": "经核实为真实信息，不构成谣言" * 2}
    for sealed in (False, True):
        if sealed:
            os.environ[auditseal.KEY_ENV] = str(key)
        else:
            os.environ.pop(auditseal.KEY_ENV, None)
        start = time.perf_counter()
        for k in range(args.writes):
            with store.transaction(db):
                store.record_audit(db, "monitor", "alert.dismiss", "alert", k, details)
        per = (time.perf_counter() - start) / args.writes * 1e6
        print(f"record_audit, its own transaction, {'sealed' if sealed else 'not sealed'}: {per:.0f} µs per entry")
    with store.transaction(db):
        for k in range(args.entries - 2 * args.writes):
            store.record_audit(db, "monitor", "alert.dismiss", "alert", k, details)
    start = time.perf_counter()
    v = auditseal.verify(db, auditseal.read_key(key))
    print(f"verify {v.entries:,} entries ({v.sealed:,} sealed): {time.perf_counter() - start:.2f} s, "
          f"{'intact' if v.intact else 'NOT INTACT'}")


if __name__ == "__main__":
    main()
