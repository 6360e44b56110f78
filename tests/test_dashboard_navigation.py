"""Opening an item from the live page's refreshing fragment (README, known issues: a refresh the
fragment's timer sends during the page switch used to run after the item view had drawn and blank it).

`ui.open_item` drops the running fragment from the session before it switches, so Streamlit refuses
such a refresh ("the fragment does not exist anymore"). This reaches into Streamlit's run context:
the tests below fail when an upgrade moves what it uses, instead of the guard silently doing nothing.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from streamlit.runtime.fragment import MemoryFragmentStorage

from dashboard import ui


@pytest.fixture(autouse=True)
def as_monitor(monkeypatch):
    """A logged-in monitor on a page without query parameters (tests change either)."""
    monkeypatch.setattr(ui.dashboard_auth, "current_user", lambda: {"username": "mon", "role": "monitor"})
    monkeypatch.setattr(ui.st, "query_params", {})


def _storage(*ids: str) -> MemoryFragmentStorage:
    storage = MemoryFragmentStorage()
    for fragment_id in ids:
        storage.register(fragment_id, lambda: None)
    return storage


def test_streamlits_run_context_still_has_what_the_guard_uses():
    from streamlit.runtime.scriptrunner_utils.script_run_context import ScriptRunContext

    fields = ScriptRunContext.__dataclass_fields__
    assert "fragment_storage" in fields and "fragment_ids_this_run" in fields


def test_opening_an_item_from_a_fragment_run_drops_that_fragment_only(monkeypatch):
    storage = _storage("live-panel", "sidebar-other")
    ctx = SimpleNamespace(fragment_storage=storage, fragment_ids_this_run=["live-panel"])
    monkeypatch.setattr("streamlit.runtime.scriptrunner.get_script_run_ctx", lambda: ctx)
    switched = []
    monkeypatch.setattr(ui.st, "switch_page", lambda page, query_params: switched.append((page, query_params)))
    monkeypatch.setattr(ui.st, "session_state", {})

    ui.open_item(42)

    assert not storage.contains("live-panel")  # its timer's refresh is now refused
    assert storage.contains("sidebar-other")
    assert switched == [(ui.ITEM_PAGE, {"item": "42"})]


@pytest.mark.parametrize("ctx", [None, SimpleNamespace(fragment_storage=None, fragment_ids_this_run=None)])
def test_opening_an_item_without_streamlits_run_context_still_switches(monkeypatch, ctx):
    monkeypatch.setattr("streamlit.runtime.scriptrunner.get_script_run_ctx", lambda: ctx)
    switched = []
    monkeypatch.setattr(ui.st, "switch_page", lambda page, query_params: switched.append(query_params))
    monkeypatch.setattr(ui.st, "session_state", {})

    ui.open_item(7)

    assert switched == [{"item": "7"}]


def test_opening_an_item_from_a_full_run_drops_the_pages_refreshing_fragments(monkeypatch):
    # the 预警 page: its list and clocks refresh in fragments, 打开条目详情 sits outside them
    storage = _storage("alert-list", "alert-clocks")
    ctx = SimpleNamespace(fragment_storage=storage, fragment_ids_this_run=[])
    monkeypatch.setattr("streamlit.runtime.scriptrunner.get_script_run_ctx", lambda: ctx)
    switched = []
    monkeypatch.setattr(ui.st, "switch_page", lambda page, query_params: switched.append(query_params))
    monkeypatch.setattr(ui.st, "session_state", {})

    ui.open_item(7)

    assert not storage.contains("alert-list") and not storage.contains("alert-clocks")
    assert switched == [{"item": "7"}]


def test_opening_an_item_from_an_alert_keeps_the_alert_in_the_step_back_returns_to(monkeypatch):
    # Streamlit writes the query into the alerts address before switching: /alerts?alert=10&item=42
    # is the history step Back returns to, and it still shows alert 10 (it was /alerts?item=42).
    monkeypatch.setattr(ui.st, "query_params", {"alert": "10"})
    monkeypatch.setattr("streamlit.runtime.scriptrunner.get_script_run_ctx", lambda: None)
    switched = []
    monkeypatch.setattr(ui.st, "switch_page", lambda page, query_params: switched.append(query_params))
    monkeypatch.setattr(ui.st, "session_state", {})

    ui.open_item(42)

    assert switched == [{"alert": "10", "item": "42"}]


def test_a_role_without_the_item_page_gets_a_chinese_refusal_instead_of_a_switch(monkeypatch):
    monkeypatch.setattr(ui.dashboard_auth, "current_user", lambda: {"username": "boss", "role": "leader"})
    switched, errors = [], []
    monkeypatch.setattr(ui.st, "switch_page", lambda page, query_params: switched.append(query_params))
    monkeypatch.setattr(ui.st, "error", errors.append)
    monkeypatch.setattr(ui.st, "session_state", {})

    ui.open_item(42)

    assert switched == []
    assert errors == ["当前角色（领导）无权执行此操作。如需权限请联系管理员。"]
