"""The README documents every command and every setting; every --help ends with an example."""

import re

import click
import pytest

from rumourwatch.cli import cli
from rumourwatch.config import REPO_ROOT, SETTINGS

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def command_paths(group: click.Group, prefix=()):
    for name, cmd in sorted(group.commands.items()):
        path = prefix + (name,)
        if isinstance(cmd, click.Group):
            yield from command_paths(cmd, path)
        else:
            yield path, cmd


COMMANDS = list(command_paths(cli))


@pytest.mark.parametrize("path", [" ".join(p) for p, _ in COMMANDS])
def test_every_command_is_in_the_readme(path):
    assert re.search(rf"rumourwatch {re.escape(path)}\b", README), f"README does not mention `rumourwatch {path}`"


@pytest.mark.parametrize("path,cmd", COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_every_help_ends_with_an_example(path, cmd):
    assert "Example" in (cmd.help or ""), f"`rumourwatch {' '.join(path)} --help` has no example"


@pytest.mark.parametrize("setting", SETTINGS, ids=[s.name for s in SETTINGS])
def test_every_setting_is_in_the_readme(setting):
    assert setting.env_var in README, f"README does not document {setting.env_var}"


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    block = re.search(r"## Quick start.*?```(?:bash|sh)?\n(.*?)```", README, re.S)
    assert block, "README needs a Quick start code block"
    commands = [l for l in block.group(1).splitlines() if l.strip() and not l.strip().startswith("#")]
    assert commands == ["make demo", "make test"]
    assert "make test" in (REPO_ROOT / ".ci" / "run").read_text()
