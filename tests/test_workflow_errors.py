"""A refused workflow action reaches the dashboard user in Chinese: every WorkflowError names a
strings.py message (`wferr.<key>`) with the specifics it needs (the forms showing it are tested in
test_workflow_pages.py)."""

from __future__ import annotations

import ast
import re
import string

import pytest

from dashboard.strings import STRINGS
from rumourwatch.config import REPO_ROOT

CJK = re.compile(r"[\u4e00-\u9fff]")


def _raise_sites():
    for path in sorted((REPO_ROOT / "rumourwatch").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) == "WorkflowError":
                yield f"{path.relative_to(REPO_ROOT)}:{node.lineno}", node


SITES = list(_raise_sites())


def test_the_raise_sites_are_found():
    assert len(SITES) >= 40  # the scan sees the ~46 sites in alerts.py, experts.py and labels.py


@pytest.mark.parametrize("where,node", SITES, ids=[w for w, _ in SITES])
def test_every_workflow_error_names_a_chinese_message_with_its_specifics(where, node):
    assert len(node.args) == 2 and isinstance(node.args[1], ast.Constant), \
        f"{where}: WorkflowError(english, key, **params) needs a message key as its 2nd argument"
    key = f"wferr.{node.args[1].value}"
    text = STRINGS["zh-CN"].get(key)
    assert text and CJK.search(text), f"{where}: dashboard/strings.py has no Chinese text for {key}"
    fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
    given = {k.arg for k in node.keywords}
    assert None not in given, f"{where}: pass the message's parameters by name"
    assert fields == given, f"{where}: {key} uses {sorted(fields)} but the raise passes {sorted(given)}"
