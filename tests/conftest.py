"""Shared fixtures. Texts here are written for the tests (fictional), never taken from the bundle."""

from __future__ import annotations

import os
from datetime import datetime, timezone
from email import message_from_bytes
from email.policy import default as default_policy
from pathlib import Path

import pytest
from local_servers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    free_port,
    require_chromium,
    start_webhook,
)

from rumourwatch import store
from rumourwatch.config import REPO_ROOT, load_settings

DATA_DIR = Path(os.environ.get("RUMOURWATCH_DATA_DIR", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture
def db():
    return store.open_db(memory=True)


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "test.db"


@pytest.fixture
def now():
    return datetime(2026, 11, 23, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def rules_file(tmp_path, monkeypatch):
    """A copy of the default alert rules, made the rules file (RUMOURWATCH_ALERT_RULES): a test that
    saves rules never writes the repository's."""
    import shutil

    target = tmp_path / "alert-rules.toml"
    shutil.copy(REPO_ROOT / "config" / "alert_rules.toml", target)
    monkeypatch.setenv("RUMOURWATCH_ALERT_RULES", str(target))
    return target


@pytest.fixture
def settings(tmp_path):
    return load_settings(db_path=str(tmp_path / "test.db"), data_dir=str(DATA_DIR))


class RuleBundle:
    """A transparent stand-in for the trained bundle, for tests of plumbing (I/O, order, as-of cuts,
    checkpoints): its probability rises with doubt words in reactions, so a test can tell exactly
    which reactions a score saw. Model quality is tested against the real bundle elsewhere."""

    version = "rule-test-1"
    manifest = {"kind": "test double"}

    def score(self, docs):
        out = []
        for d in docs:
            doubts = sum(("谣言" in r.text or "假的" in r.text) for r in d.reactions)
            p = min(0.95, 0.1 + 0.2 * doubts + (0.3 if "转发" in d.text else 0.0))
            out.append({"rumour_probability": p, "is_rumour": p >= 0.5,
                        "polarity": "negative" if "可怕" in d.text else "neutral",
                        "polarity_scores": None, "health_probability": 0.9, "health_related": True,
                        "topic": "传染病及地方病防控", "model_version": self.version})
        return out


@pytest.fixture
def rule_bundle():
    return RuleBundle()


@pytest.fixture(scope="module")
def browser():
    """Debian's headless Chromium, driven by Playwright, for one test module."""
    from playwright.sync_api import sync_playwright

    require_chromium()
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class _Inbox:
    """What the local SMTP server received: (recipients, parsed message) per mail."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd's hook name
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default_policy)))
        return "250 OK"


@pytest.fixture
def smtp_server():
    """A real SMTP server (aiosmtpd) on a free local port: yields (controller, inbox)."""
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def webhook():
    """A group-bot webhook on a local HTTP server (local_servers.start_webhook)."""
    server = start_webhook()
    yield server
    server.shutdown()
    server.server_close()
