"""UI strings: one table per language, no key silently defined twice, every key a page asks for exists."""

import ast
import re

import dashboard_fixtures as fx

from dashboard.strings import STRINGS, t

STRINGS_FILE = fx.ROOT / "dashboard" / "strings.py"
UI_FILES = sorted((fx.ROOT / "dashboard").rglob("*.py"))


def _literal_tables() -> dict[str, list[tuple[str, str, int]]]:
    tree = ast.parse(STRINGS_FILE.read_text(encoding="utf-8"))
    tables = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign) and getattr(node.target, "id", "") == "STRINGS":
            for lang, table in zip(node.value.keys, node.value.values):
                # (a `**{…}` entry, the words rumourwatch.ledger also writes, has no literal key)
                tables[lang.value] = [(k.value, v.value, k.lineno) for k, v in zip(table.keys, table.values)
                                      if k is not None]
    return tables


def test_no_message_id_is_defined_twice_with_different_text():
    # A dict literal keeps the last of two equal keys: one page would silently show the other's label.
    for lang, entries in _literal_tables().items():
        seen, clashes = {}, []
        for key, value, line in entries:
            if key in seen and seen[key][0] != value:
                clashes.append(f"{key}: {seen[key][0]!r} (line {seen[key][1]}) vs {value!r} (line {line})")
            seen.setdefault(key, (value, line))
        assert not clashes, f"{lang}: message ids defined twice with different text:\n" + "\n".join(clashes)


def test_every_message_id_used_by_the_dashboard_exists():
    used = set()
    for path in UI_FILES:
        used |= set(re.findall(r"""\bt\(\s*f?["']([a-z0-9_.]+)["']""", path.read_text(encoding="utf-8")))
    missing = sorted(k for k in used if k not in STRINGS["zh-CN"])
    assert not missing, f"message ids used but not defined: {missing}"


def test_templates_format_with_their_values():
    assert t("live.metric.last_hour", n=1234) == "近1小时新增 1,234"
    assert t("item.heading", id=7) == "条目 #7"
