"""Click command groups by area, registered on the main group in rumourwatch/cli.py, and what
every command shares."""

from __future__ import annotations

import functools

import click

from ..errors import RumourwatchError

# the alert rules file a command reads (notifications, clocks, watched keywords)
RULES_OPTION = click.option("--rules", "rules_path", type=click.Path(dir_okay=False), default=None,
                            help="Rules file (default config/alert_rules.toml or RUMOURWATCH_ALERT_RULES).")


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


def china_days(day_from: str | None, day_to: str | None, days: int) -> tuple[str, str, str]:
    """The UTC bounds and a label of the Beijing days --from … --to (both included; --to defaults to
    today, --from to `days` days before it), refused as a usage error when a date is unreadable or
    the period runs backwards."""
    from datetime import date, datetime, timedelta

    from .. import store
    from ..records import CST, UTC

    def day(value: str | None, name: str) -> date | None:
        if value is None:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise click.BadParameter(f"{value!r} is not a date like 2026-11-23", param_hint=name) from None

    last = day(day_to, "--to") or datetime.now(UTC).astimezone(CST).date()
    first = day(day_from, "--from") or last - timedelta(days=days - 1)
    if first > last:
        raise click.BadParameter(f"{first} is after {last}", param_hint="--from")
    start, end = store.day_range(first, (last - first).days + 1)
    return start, end, f"{first} – {last} (Beijing time)"
