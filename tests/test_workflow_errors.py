"""A refused action reaches the dashboard user in Chinese: every WorkflowError (a RetrainError,
ReportError or roster row's problem too) and every AuthError names a strings.py message (`wferr.<key>`)
with the specifics it needs (the forms showing them are tested in test_workflow_pages.py,
test_dashboard_admin.py and test_dashboard_reports.py)."""

from __future__ import annotations

import ast
import re
import string

import pytest

from dashboard.strings import STRINGS
from rumourwatch.config import REPO_ROOT

CJK = re.compile(r"[\u4e00-\u9fff]")
KEYED = ("WorkflowError", "RetrainError", "ReportError")  # (english, key, **params)
AUTH = "AuthError"  # (english, reason=…, [key=… when finer than the reason], **params)


def _raise_sites():
    for path in sorted((REPO_ROOT / "rumourwatch").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in (*KEYED, AUTH):
                yield f"{path.relative_to(REPO_ROOT)}:{node.lineno}", node


SITES = list(_raise_sites())


def test_the_raise_sites_are_found():
    names = {getattr(node.func, "id", getattr(node.func, "attr", None)) for _, node in SITES}
    assert len(SITES) >= 90 and names == {*KEYED, AUTH}  # alerts, experts, labels, retrain, reports, auth


@pytest.mark.parametrize("where,node", SITES, ids=[w for w, _ in SITES])
def test_every_refusal_names_a_chinese_message_with_its_specifics(where, node):
    named = {k.arg: k.value for k in node.keywords}
    if getattr(node.func, "id", getattr(node.func, "attr", None)) == AUTH:
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
