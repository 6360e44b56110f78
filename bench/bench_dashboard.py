"""Benchmark: what one monitor's open dashboard page costs the server and the browser over time,
while items keep arriving. Prints figures.

    python bench/bench_dashboard.py [--minutes 5] [--rate 15] [--reactions 0] [--page live] [--arenas N]
                                    [--db data/demo.db]

Copies a store (default: the demo's, made by `make demo`, with its accounts and watched keywords)
to build/bench-dashboard.db, serves it with `rumourwatch dashboard`, and writes `--rate` posts of the
stream sample into it every 5 s (dated now, as a worker would store them; unscored), so the load is
the same from run to run, unlike the demo's replay, which comes in bursts. Logs in as the demo's
monitor in headless Chromium (/usr/bin/chromium), leaves the page open (it refreshes itself every
`dashboard_refresh_seconds`), and every `--interval` seconds prints the server's resident memory and
CPU share of one core since the last line, and the page's JavaScript heap, DOM nodes and Streamlit
exceptions; then the peak and last figures. `--arenas N` runs the server with N malloc arenas
(MALLOC_ARENA_MAX) instead of the launcher's 2: 16, glibc's default on two cores, is the server as
it was before the limit.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rumourwatch import backup, demo, store
from rumourwatch.config import load_settings
from rumourwatch.ingest import ingest_events
from rumourwatch.records import CST, UTC
from rumourwatch.sources.base import RawItem
from tests.local_servers import CHROMIUM_ARGS, only_child

TICKS = os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def copy_store(source: Path, target: Path) -> None:
    """A consistent copy of `source` (a worker may be writing it): the store's backup."""
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    db = store.open_db(source, read_only=True)
    backup.backup(db, target)
    db.conn.close()


def feed(db_path: Path, rate: int, reactions: int, stop: threading.Event) -> None:
    """Every 5 s, `rate` posts of the stream sample stored as new items dated now, and `reactions`
    comments (the next posts' texts) spread over the last 50 of them, as a re-fetch brings them."""
    path = Path(load_settings().data_dir) / "stream" / "covid_weibo_2020_sample.jsonl.gz"
    db = store.open_db(db_path)
    posts: list[dict] = []
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        texts = (r["text"] for r in map(json.loads, lines) if r.get("text"))
        n = 0
        while not stop.wait(5):
            now = datetime.now(UTC)
            date = now.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
            batch = []
            for _ in range(rate):
                n += 1
                posts.append({"id": f"bench-{n}", "platform": "微博", "account": f"bench-account-{n % 500}",
                              "date": date, "text": next(texts), "comments": []})
                batch.append(posts[-1])
            recent = posts[-50:]
            for k in range(reactions):
                recent[k % len(recent)]["comments"].append({"date": date, "text": next(texts),
                                                            "user_id": f"bench-reader-{n}-{k}"})
            touched = {id(p): p for p in batch + (recent if reactions else [])}.values()
            with store.transaction(db):
                ingest_events(db, [RawItem(dict(p)) for p in touched], source="bench", now=now)
    db.conn.close()


def wait_for(url: str, limit: float, process: subprocess.Popen) -> None:
    deadline = time.time() + limit
    while time.time() < deadline:
        if process.poll() is not None:
            sys.exit(f"rumourwatch dashboard ended (exit code {process.returncode}) before serving {url}")
        try:
            with urllib.request.urlopen(url + "_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(2)
    sys.exit(f"the dashboard did not answer at {url} within {limit:.0f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--interval", type=float, default=15.0, help="seconds between samples")
    parser.add_argument("--page", default="live", help="page address, as in the menu (live, alerts, search …)")
    parser.add_argument("--port", type=int, default=8599)
    parser.add_argument("--arenas", type=int, default=None, help="MALLOC_ARENA_MAX for the server")
    parser.add_argument("--rate", type=int, default=15, help="posts stored every 5 s while the page is open")
    parser.add_argument("--reactions", type=int, default=0, help="comments added every 5 s to the last 50 posts")
    parser.add_argument("--db", type=Path, default=ROOT / "data" / "demo.db", help="the store to copy")
    parser.add_argument("--user", default="monitor")
    args = parser.parse_args()
    if not args.db.is_file():
        sys.exit(f"{args.db} does not exist: run `make demo` once first (or give --db)")

    from playwright.sync_api import sync_playwright

    copy = ROOT / "build" / "bench-dashboard.db"
    copy.parent.mkdir(exist_ok=True)
    copy_store(args.db, copy)
    env = dict(os.environ, RUMOURWATCH_ALERT_RULES=str(demo.rules_path(args.db)))  # the demo's watched keywords
    if args.arenas is not None:
        env["MALLOC_ARENA_MAX"] = str(args.arenas)
    url = f"http://localhost:{args.port}/"
    server = subprocess.Popen([sys.executable, "-m", "rumourwatch.cli", "--db", str(copy), "dashboard",
                               "--port", str(args.port)], env=env, cwd=ROOT, stdout=subprocess.DEVNULL)
    stop = threading.Event()
    writer = threading.Thread(target=feed, args=(copy, args.rate, args.reactions, stop), daemon=True)
    try:
        wait_for(url, 120, server)
        pid = only_child(server.pid)  # the Streamlit server
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=CHROMIUM_ARGS + ["--enable-precise-memory-info"])
            page = browser.new_context(viewport={"width": 1400, "height": 1800}).new_page()
            page.goto(url)
            page.get_by_label("用户名").fill(args.user)
            page.get_by_label("密码").fill(demo.DEMO_PASSWORD)
            page.get_by_role("button", name="登录").click()
            page.wait_for_timeout(5000)
            page.goto(url + args.page)
            page.wait_for_timeout(10000)
            writer.start()
            arenas = env.get("MALLOC_ARENA_MAX", "as the launcher sets it")
            print(f"server pid {pid}, MALLOC_ARENA_MAX={arenas}, page /{args.page} as {args.user}, "
                  f"{args.minutes:g} min, {args.rate} posts and {args.reactions} comments stored every 5 s")
            print(f"{'min':>5} {'server MB':>10} {'server CPU':>10} {'JS heap MB':>10} {'DOM nodes':>9} {'errors':>6}")
            started = last_at = time.time()
            last_cpu = first_cpu = cpu_seconds(pid)
            samples = []
            while True:
                now = time.time()
                cpu = cpu_seconds(pid)
                row = {"minutes": (now - started) / 60, "rss": rss_mb(pid),
                       "cpu": (cpu - last_cpu) / max(now - last_at, 1e-9),
                       "heap": page.evaluate("performance.memory.usedJSHeapSize") / 2 ** 20,
                       "nodes": page.evaluate("document.getElementsByTagName('*').length"),
                       "errors": len(page.query_selector_all("[data-testid='stException']"))}
                samples.append(row)
                print(f"{row['minutes']:5.1f} {row['rss']:10.0f} {row['cpu']:10.1%} {row['heap']:10.1f} "
                      f"{row['nodes']:9d} {row['errors']:6d}", flush=True)
                last_cpu, last_at = cpu, now
                if now - started >= args.minutes * 60:
                    break
                time.sleep(args.interval)
            browser.close()
        whole = time.time() - started
        print(f"server memory: first {samples[0]['rss']:.0f} MB, peak {max(s['rss'] for s in samples):.0f} MB, "
              f"last {samples[-1]['rss']:.0f} MB; server CPU {(cpu_seconds(pid) - first_cpu) / whole:.1%} of one "
              f"core over {whole / 60:.1f} min; JS heap peak {max(s['heap'] for s in samples):.1f} MB, last "
              f"{samples[-1]['heap']:.1f} MB; page errors seen {max(s['errors'] for s in samples)}")
    finally:
        stop.set()
        server.send_signal(signal.SIGTERM)  # stops the Streamlit server too (run_with_children)
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()


if __name__ == "__main__":
    main()
