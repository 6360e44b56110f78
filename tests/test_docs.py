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


DEPLOY = (REPO_ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")


def _deploy_command_lines() -> list[str]:
    """Every `rumourwatch …` command line of the deployment guide's code blocks, cut where the shell
    takes over (a redirection, ||, ;), with $(…) read as one word."""
    import shlex

    lines = []
    for block in re.findall(r"```[a-z]*\n(.*?)```", DEPLOY, re.DOTALL):
        for line in block.splitlines():
            for part in re.findall(r"(?:^|[\s/])rumourwatch ([^;|>]+)", re.sub(r"\$\([^)]*\)", "X", line)):
                if part.split()[0] in cli.commands:  # not prose naming the program
                    lines.append(part.strip())
    lines += [x.strip() for x in re.findall(r"`rumourwatch ([^`]+)`", DEPLOY) if x.split()[0] in cli.commands]
    return [" ".join(shlex.split(x)) for x in lines]


def _parse(args: list[str]) -> click.Command:
    """Parse `args` as the command line would (options, their types, the sub-commands) without
    running anything; a usage error is raised as click raises it."""
    ctx = cli.make_context("rumourwatch", list(args), resilient_parsing=False)
    command: click.Command = cli
    rest = [*ctx._protected_args, *ctx.args]
    while isinstance(command, click.Group):
        name, command, rest = command.resolve_command(ctx, rest)
        ctx = command.make_context(name, rest, parent=ctx)
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
    return command


def test_the_deployment_guide_commands_are_real_command_lines():
    import shlex

    lines = _deploy_command_lines()
    assert len(lines) >= 17, lines
    for line in lines:
        try:
            _parse(shlex.split(line))
        except click.BadParameter as exc:  # a file on the operator's machine (roster.csv) is not on this one
            if "does not exist" not in exc.format_message():
                pytest.fail(f"docs/deploy.md: `rumourwatch {line}`: {exc.format_message()}")
        except click.UsageError as exc:
            pytest.fail(f"docs/deploy.md: `rumourwatch {line}`: {exc.format_message()}")
    # the guide names every cron job the README tells operators to schedule
    for job in ("alerts escalate", "report send --daily", "report send --weekly", "report send --monthly",
                "backup", "retention --apply", "check"):
        assert any(line.startswith(job) for line in lines), job
    with pytest.raises(click.UsageError):  # the check itself can fail
        _parse(["report", "send", "--dayly"])
