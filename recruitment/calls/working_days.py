"""Working days (Monday to Friday) for the "we contact you within N working days" promise.

Pure Python, no Django: the call list's arithmetic can be tested on its own. Public holidays
are not known here: a promise kept on working days is kept on every weekday.
"""

from datetime import date, timedelta

SATURDAY = 5


def is_working_day(day: date) -> bool:
    return day.weekday() < SATURDAY


def working_days_after(start: date, count: int) -> date:
    """The `count`-th working day after `start` (`start` itself never counts: an application
    on Friday evening with a 5-day promise is due the next Friday)."""
    day = start
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]: how many pass going from `start` to `end`; negative when
    `end` comes first."""
    if end < start:
        return -working_days_between(end, start)
    weeks, rest = divmod((end - start).days, 7)
    days = weeks * 5
    for offset in range(1, rest + 1):
        if is_working_day(start + timedelta(days=offset)):
            days += 1
    return days
