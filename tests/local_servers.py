"""Real local servers for tests: a free port, a group-bot webhook, the dashboard under `streamlit run`,
Debian's Chromium.

The fixtures built on these (`browser`, `smtp_server`, `webhook`) are in conftest.py. Chromium missing is a
failure, never a skip: CI installs it (scripts/install-system-deps.sh).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, HTTPServer, ThreadingHTTPServer
from pathlib import Path

import pytest

from rumourwatch.config import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
# Playwright's own browser download cannot work here; these flags keep Debian's Chromium offline.
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
APP = REPO_ROOT / "dashboard" / "streamlit_app.py"
STARTUP_SECONDS = 60


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Hook(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append(json.loads(body))
        answer = json.dumps(self.server.answer).encode()
        self.send_response(self.server.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def start_webhook(port: int = 0) -> HTTPServer:
    """A WeCom / DingTalk-style group-bot webhook serving in a thread on 127.0.0.1 (`port` 0: a free
    one): the JSON bodies it received are `.received`; `.status` and `.answer` set its reply. Stop it
    with shutdown() and server_close()."""
    server = HTTPServer(("127.0.0.1", port), _Hook)
    server.received, server.status, server.answer = [], 200, {"errcode": 0, "errmsg": "ok"}
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class LocalGet:
    """A local HTTP server answering GETs with `respond(path, headers) -> (status, content_type, body,
    extra headers)`, in a thread on 127.0.0.1 (a free port): the feeds and APIs the sources read in
    tests. `.base` is its address; close() stops it."""

    def __init__(self, respond):
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                status, content_type, body, extra = respond(self.path, self.headers)
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                for name, value in (extra or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def require_chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install it (apt-get install chromium); "
                    "the browser tests never skip")


@contextmanager
def running_dashboard(log_dir: Path, **env: str) -> Iterator[str]:
    """The dashboard served by `streamlit run` on a free port, with `env` added to this process's
    environment (RUMOURWATCH_DB_PATH=…). Yields its base URL once its health check answers; fails
    the test with the server's log if it exits or does not answer within STARTUP_SECONDS."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with open(log_dir / "streamlit.log", "w+", encoding="utf-8") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", str(APP), "--server.headless", "true",
             "--server.port", str(port), "--server.address", "127.0.0.1",
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=REPO_ROOT, env=dict(os.environ, **env), stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(proc, base, log)
            yield base
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def only_child(pid: int) -> int:
    """The one child process of `pid` (the Streamlit server under `rumourwatch dashboard`)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    assert len(children) == 1, f"process {pid} has children {children}, not one"
    return int(children[0])


def _wait_healthy(proc: subprocess.Popen, base: str, log) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        if proc.poll() is not None:
            log.seek(0)
            pytest.fail(f"streamlit exited with {proc.returncode}:\n{log.read()}")
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            log.seek(0)
            pytest.fail(f"streamlit did not answer on {base} within {STARTUP_SECONDS} s:\n{log.read()}")
        time.sleep(0.5)


_APP_ROOT = '[data-testid="stApp"]'


def wait_for_idle(page, timeout_ms: int = 30_000) -> None:
    """Wait until no script run is in progress: Streamlit marks its root element
    data-test-script-state="notRunning" when idle. A widget used while a run is still drawing the
    page can be redrawn under the test's hands."""
    page.wait_for_selector(f'{_APP_ROOT}[data-test-script-state="notRunning"]', timeout=timeout_ms)


def wait_for_rerun(page, timeout_ms: int = 30_000) -> None:
    """Wait until the script run that the last input started has finished (after a committed
    value the root element leaves "notRunning" until the rerun is over). A fixed pause is not
    enough on a loaded machine: CI pressed a button before the rerun that committed a typed reason
    had finished, and the reason was lost."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:  # the run may be over before we look, or may not start at all (nothing changed)
        page.wait_for_selector(f'{_APP_ROOT}:not([data-test-script-state="notRunning"])', timeout=1_000)
    except PlaywrightTimeout:
        pass
    wait_for_idle(page, timeout_ms)


def page_messages(page) -> list[str]:
    """The messages on screen (success, info, warning, error boxes), for a failing test to show."""
    return [m.strip() for m in page.locator('[data-testid="stAlert"]').all_inner_texts()]
