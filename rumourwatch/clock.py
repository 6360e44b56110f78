"""Injectable clocks. Workflow code asks a clock for "now" instead of reading the system time, so
tests can drive deadlines and escalation through simulated hours."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Callable

from .records import UTC

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real time, timezone-aware UTC."""
    return datetime.now(UTC)


class FixedClock:
    """A clock that only moves when told to: `clock()` returns the current simulated time."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("FixedClock needs a timezone-aware datetime")
        self.now = start.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta) -> datetime:
        """Move forward by timedelta keywords (hours=5, minutes=1); returns the new time."""
        self.now = self.now + timedelta(**delta)
        return self.now

    def set(self, when: datetime) -> datetime:
        self.now = when.astimezone(UTC)
        return self.now
