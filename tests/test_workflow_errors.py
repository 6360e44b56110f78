"""A refused action or a failure reaches the dashboard user in Chinese: every WorkflowError (a
RetrainError, ReportError or roster row's problem too), every AuthError, and every ConfigError (a
setting or an alert rule), StoreError, SourceError and RecordError (why a record was set aside)
names a strings.py message (`wferr.<key>`) with the specifics it needs (the forms showing them are
tested in test_workflow_pages.py, test_dashboard_admin.py, test_dashboard_reports.py and
test_dashboard_pages.py)."""

from __future__ import annotations

import ast
import re
import string

import pytest

from dashboard.strings import STRINGS
from rumourwatch.config import REPO_ROOT

CJK = re.compile(r"[\u4e00-\u9fff]")
KEYED = ("WorkflowError", "RetrainError", "ReportError", "ConfigError", "StoreError", "SourceError",
         "RecordError")  # (english, key, **params)
RULE = "_check"  # alerts._check(cond, rule, english, key, **params): a ConfigError naming the rule
AUTH = "AuthError"  # (english, reason=…, [key=… when finer than the reason], **params)
# Backups, source specs, scoring a file and building the debunk index are the command line's (and
# training's) alone, which speak English: no dashboard shows their errors.
CLI_ONLY = {"rumourwatch/backup.py": ("StoreError",), "rumourwatch/sources/__init__.py": ("SourceError",),
            "rumourwatch/score.py": ("RecordError",), "rumourwatch/knowledge.py": ("RecordError",)}


def _name(node) -> str | None:
    return getattr(node.func, "id", getattr(node.func, "attr", None))


def _raise_sites():
    for path in sorted((REPO_ROOT / "rumourwatch").rglob("*.py")):
        where = str(path.relative_to(REPO_ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # the helper's own raise passes its caller's key on: its calls are the sites
        forwarding = {id(n) for f in ast.walk(tree) if isinstance(f, ast.FunctionDef) and f.name == RULE
                      for n in ast.walk(f)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or id(node) in forwarding:
                continue
            name = _name(node)
            if name in (*KEYED, RULE, AUTH) and name not in CLI_ONLY.get(where, ()):
                yield f"{where}:{node.lineno}", node


SITES = list(_raise_sites())


def test_the_raise_sites_are_found():
    names = {_name(node) for _, node in SITES}
    # alerts, experts, labels, retrain, reports, auth, config, store, sources, ingest, records
    assert len(SITES) >= 205 and names == {*KEYED, RULE, AUTH}


@pytest.mark.parametrize("where,node", SITES, ids=[w for w, _ in SITES])
def test_every_refusal_names_a_chinese_message_with_its_specifics(where, node):
    named = {k.arg: k.value for k in node.keywords}
    if _name(node) == RULE:
        assert len(node.args) == 4 and isinstance(node.args[3], ast.Constant), \
            f"{where}: _check(cond, rule, english, key, **params) needs a message key as its 4th argument"
        code = node.args[3]
        named["rule"] = node.args[1]
    elif _name(node) == AUTH:
        code = named.pop("key", None) or named.pop("reason", None)
        named.pop("reason", None)
        assert len(node.args) == 1 and isinstance(code, ast.Constant), \
            f"{where}: AuthError(english, reason=..., **params) needs its reason (or a finer key) by name"
    else:
        assert len(node.args) == 2 and isinstance(node.args[1], ast.Constant), \
            f"{where}: WorkflowError(english, key, **params) needs a message key as its 2nd argument"
        code = node.args[1]
    key = f"wferr.{code.value}"
    text = STRINGS["zh-CN"].get(key)
    assert text and CJK.search(text), f"{where}: dashboard/strings.py has no Chinese text for {key}"
    fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    given = set(named)
    assert None not in given, f"{where}: pass the message's parameters by name"
    assert fields == given, f"{where}: {key} uses {sorted(fields)} but the raise passes {sorted(given)}"
