"""Click command groups by area, registered on the main group in rumourwatch/cli.py, and what
every command shares."""

from __future__ import annotations

import functools

import click

from ..errors import RumourwatchError


def friendly_errors(fn):
    """Turn the domain's errors into one-line CLI errors (`Error: ...`, no traceback for a user's
    mistake). Here, not in cli.py: the command modules need it while cli.py imports them."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RumourwatchError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper
