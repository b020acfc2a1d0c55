"""systemd calendar events (`OnCalendar=`, systemd.time(7)), the subset people write, always in UTC.

    [DayOfWeek] [Year-]Month-Day [Hour:Minute[:Second]] [UTC]

Each field is `*`, a number, a range `a..b`, a repetition `a/step` or `a..b/step`, or a
comma-separated list of those (`Mon..Fri`, `Sat,Sun`, `*:0/15`, `*-*-01/7`). A missing date is
`*-*-*`, a missing time `00:00:00`, missing seconds `00`; two-digit years are 1970–2069 as in
systemd. Shorthands: minutely, hourly, daily, weekly, monthly, quarterly, semiannually, yearly,
annually. A trailing ` UTC` is accepted; any other time zone, fractional seconds and the `~`
(last days of the month) form are refused, so whatever is accepted here means the same to the
fleet scheduler's systemd timers.

`next_after(expr, when)` is the first matching whole second strictly after `when`, like systemd's
"next elapse"; `parse` raises `CalendarError` with a message that says what is wrong.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from totem.errors import TotemError

MIN_YEAR, MAX_YEAR = 1970, 9999
CYCLE = 400  # the Gregorian calendar (weekdays included) repeats every 400 years

SHORTHANDS = {
    "minutely": "*-*-* *:*:00",
    "hourly": "*-*-* *:00:00",
    "daily": "*-*-* 00:00:00",
    "weekly": "Mon *-*-* 00:00:00",
    "monthly": "*-*-01 00:00:00",
    "quarterly": "*-01,04,07,10-01 00:00:00",
    "semiannually": "*-01,07-01 00:00:00",
    "yearly": "*-01-01 00:00:00",
    "annually": "*-01-01 00:00:00",
}
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_NUMBER = re.compile(r"^\d{1,4}$")


class CalendarError(TotemError, ValueError):
    """The expression is not a calendar event this parser accepts; the message says why."""


@dataclass(frozen=True)
class CalendarEvent:
    expression: str
    weekdays: frozenset[int] | None  # Monday is 0; None: any day
    years: frozenset[int] | None  # None: any year
    months: tuple[int, ...]
    days: tuple[int, ...]
    hours: tuple[int, ...]
    minutes: tuple[int, ...]
    seconds: tuple[int, ...]

    def next_after(self, when: datetime) -> datetime | None:
        """The first matching second strictly after `when` (naive: UTC), or None if there is none."""
        start = _utc(when).replace(microsecond=0) + timedelta(seconds=1)
        years = range(start.year, min(MAX_YEAR, start.year + CYCLE) + 1)
        if self.years is not None:
            years = sorted(y for y in self.years if y >= start.year)  # type: ignore[assignment]
        for year in years:
            for month in self.months:
                if (year, month) < (start.year, start.month):
                    continue
                last = calendar.monthrange(year, month)[1]
                for day in self.days:
                    if day > last:
                        break
                    if (year, month, day) < (start.year, start.month, start.day):
                        continue
                    if self.weekdays is not None and date(year, month, day).weekday() not in self.weekdays:
                        continue
                    same_day = (year, month, day) == (start.year, start.month, start.day)
                    found = self._time(start.hour, start.minute, start.second) if same_day else self._first()
                    if found:
                        return datetime(year, month, day, *found, tzinfo=UTC)
        return None

    def _first(self) -> tuple[int, int, int]:
        return self.hours[0], self.minutes[0], self.seconds[0]

    def _time(self, hour: int, minute: int, second: int) -> tuple[int, int, int] | None:
        """The first matching time of day at or after hour:minute:second."""
        for h in self.hours:
            if h < hour:
                continue
            for m in self.minutes:
                if h == hour and m < minute:
                    continue
                for s in self.seconds:
                    if h == hour and m == minute and s < second:
                        continue
                    return h, m, s
        return None


def _utc(when: datetime) -> datetime:
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def next_after(expression: str, when: datetime) -> datetime | None:
    return parse(expression).next_after(when)


def parse(expression: str) -> CalendarEvent:
    if not isinstance(expression, str) or not expression.strip():
        raise CalendarError("empty calendar expression")
    words = expression.split()
    if len(words) > 1 and words[-1].upper() == "UTC":
        words = words[:-1]
    if len(words) == 1 and words[0].lower() in SHORTHANDS:
        words = SHORTHANDS[words[0].lower()].split()
    weekdays = None
    if words and words[0][:1].isalpha():
        weekdays = _weekdays(words.pop(0))
    if words and words[-1][:1].isalpha():
        raise CalendarError(f"times are UTC: only a trailing ' UTC' is accepted, not the zone {words[-1]!r}")
    date_part, time_part = "*-*-*", "00:00:00"
    if len(words) == 2:
        date_part, time_part = words
    elif len(words) == 1 and ":" in words[0]:
        time_part = words[0]
    elif len(words) == 1:
        date_part = words[0]
    elif words:
        raise CalendarError(f"expected [weekday] [date] [time] [UTC]; got {expression!r}")
    if ":" in date_part or "-" in time_part:
        raise CalendarError(f"expected the date (Y-M-D) before the time (H:M:S) in {expression!r}")
    years, months, days = _date(date_part)
    hours, minutes, seconds = _clock(time_part)
    return CalendarEvent(expression, weekdays, years, months, days, hours, minutes, seconds)


def _weekdays(text: str) -> frozenset[int]:
    found: set[int] = set()
    for item in text.lower().split(","):
        first, _, last = item.partition("..")
        start, end = _weekday(first), _weekday(last) if last else _weekday(first)
        if end < start:
            raise CalendarError(f"weekday range {item!r} runs backwards (Mon..Sun is the order)")
        found.update(range(start, end + 1))
    return frozenset(found)


def _weekday(name: str) -> int:
    if name in WEEKDAYS:
        return WEEKDAYS.index(name)
    if name in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(name)
    raise CalendarError(f"unknown weekday or word {name!r} (Mon..Sun, or a shorthand such as daily)")


def _date(text: str) -> tuple[frozenset[int] | None, tuple[int, ...], tuple[int, ...]]:
    if "~" in text:
        raise CalendarError("the '~' form (last days of the month) is not supported")
    parts = text.split("-")
    if len(parts) == 2:
        parts.insert(0, "*")
    if len(parts) != 3:
        raise CalendarError(f"a date is Year-Month-Day or Month-Day; got {text!r}")
    year_text, month_text, day_text = parts
    years = None if year_text == "*" else frozenset(_field(year_text, "year", MIN_YEAR, MAX_YEAR, years=True))
    return years, _field(month_text, "month", 1, 12), _field(day_text, "day", 1, 31)


def _clock(text: str) -> tuple[tuple[int, ...], tuple[int, ...], tuple[int, ...]]:
    parts = text.split(":")
    if len(parts) == 2:
        parts.append("00")
    if len(parts) != 3:
        raise CalendarError(f"a time is Hour:Minute[:Second]; got {text!r}")
    if "." in parts[2]:
        raise CalendarError("fractional seconds are not supported")
    return _field(parts[0], "hour", 0, 23), _field(parts[1], "minute", 0, 59), _field(parts[2], "second", 0, 59)


def _field(text: str, name: str, low: int, high: int, years: bool = False) -> tuple[int, ...]:
    """The sorted values of one field: `*` or a comma-separated list of a, a..b, a/step, a..b/step."""
    if text == "*":
        return tuple(range(low, high + 1))
    found: set[int] = set()
    for item in text.split(","):
        span, slash, step_text = item.partition("/")
        first, dots, last = span.partition("..")
        start = _number(first, name, low, high, years)
        end = _number(last, name, low, high, years) if dots else (high if slash else start)
        step = _step(step_text, name) if slash else 1
        if end < start:
            raise CalendarError(f"{name} range {item!r} runs backwards")
        found.update(range(start, end + 1, step))
    return tuple(sorted(found))


def _number(text: str, name: str, low: int, high: int, years: bool) -> int:
    if text == "*":
        raise CalendarError(f"'*' cannot start a {name} range or repetition (write 0/15, not */15)")
    if not _NUMBER.match(text):
        raise CalendarError(f"{name} {text!r} is not a number")
    value = int(text)
    if years and len(text) <= 2:
        value += 2000 if value < 70 else 1900  # systemd's two-digit years
    if not low <= value <= high:
        raise CalendarError(f"{name} {value} is out of range {low}..{high}")
    return value


def _step(text: str, name: str) -> int:
    if not _NUMBER.match(text) or int(text) == 0:
        raise CalendarError(f"{name} repetition step {text!r} must be a whole number above 0")
    return int(text)
