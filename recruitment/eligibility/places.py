"""Dates and ZIP codes: ages, month arithmetic, and distances from the offline ZIP data."""

import calendar
import functools
import logging
import math
from datetime import date

import zipcodes

from recruitment.eligibility.types import _ZIP5, EARTH_RADIUS_MILES
from recruitment.unicode_text import ascii_digits

logger = logging.getLogger(__name__)

# --------------------------------------------------------------------------------------------
# Dates and ZIP codes
# --------------------------------------------------------------------------------------------


def age_on(date_of_birth: date, today: date) -> int:
    """Return completed years on `today`, the way age limits in the protocol are meant.

    Comparing (month, day) pairs makes someone born on 29 February one year older on
    1 March in non-leap years, which is the usual legal convention.
    """
    years = today.year - date_of_birth.year
    if (today.month, today.day) < (date_of_birth.month, date_of_birth.day):
        years -= 1
    return years


def add_months(d: date, months: int) -> date:
    """Add calendar months, clamping to the month's last day, as washout windows are counted.

    31 January + 1 month is 28 (or 29) February rather than an error or a date in March.
    """
    index = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    day = min(d.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)


@functools.lru_cache(maxsize=4096)
def zip_centroid(zip5: str) -> tuple[float, float] | None:
    """The centroid of one five-digit ZIP, or None when the offline database has none.

    One lookup per ZIP, remembered: `zipcodes.matching` reads the compiled index, while
    `zipcodes.list_all()` would build (and keep) a dict for each of the ~42,000 ZIPs, about
    140 MB per worker. Same answers: one row per ZIP, taken when its coordinates parse.
    """
    try:
        rows = zipcodes.matching(zip5)
    except Exception as error:
        return _zip_lookup_failed(error)
    except BaseException as error:
        if not _is_native_panic(error):
            raise  # KeyboardInterrupt, SystemExit, GeneratorExit: never swallowed
        return _zip_lookup_failed(error)
    for row in rows:
        try:
            return (float(row["lat"]), float(row["long"]))
        except (KeyError, TypeError, ValueError):
            continue
    return None


def _is_native_panic(error: BaseException) -> bool:
    """Tell a panic of the ZIP library's native (Rust) code from a request to stop.

    PyO3 raises a Rust panic as `pyo3_runtime.PanicException`, a BaseException and not an
    Exception, so that `except Exception` does not hide it; that module cannot be imported,
    so the class is known by its module and name.
    """
    kind = type(error)
    return kind.__module__ == "pyo3_runtime" and kind.__name__ == "PanicException"


def _zip_lookup_failed(error: BaseException) -> None:
    """An unknown ZIP code, logged by the error's type only: its message may quote the ZIP
    code, which is personal data."""
    logger.warning("ZIP code lookup failed (%s); treated as unknown", type(error).__name__)
    return None


def _zip5(zip_code: object) -> str | None:
    """Reduce a ZIP or ZIP+4 to its first five digits, or None when it is not one.

    Digits of any script count (a phone's keyboard may type ３５２９４): they are read as the
    ASCII digits they stand for.
    """
    if not isinstance(zip_code, str):
        return None
    head = ascii_digits(text=zip_code.strip())[:5]
    return head if _ZIP5.fullmatch(head) else None


def zip_is_known(zip_code: str) -> bool:
    """Tell whether the offline ZIP database has a centroid for this ZIP (or ZIP+4)."""
    zip5 = _zip5(zip_code)
    return zip5 is not None and zip_centroid(zip5) is not None


def zip_distance_miles(zip_a: str, zip_b: str) -> float | None:
    """Return the great-circle distance in miles between two ZIP centroids, None if unknown.

    Centroids are only approximate, so the haversine formula on a sphere is accurate enough
    for a travel-distance limit.
    """
    zip_a5, zip_b5 = _zip5(zip_a), _zip5(zip_b)
    a = zip_centroid(zip_a5) if zip_a5 is not None else None
    b = zip_centroid(zip_b5) if zip_b5 is not None else None
    if a is None or b is None:
        return None
    lat1, lon1 = map(math.radians, a)
    lat2, lon2 = map(math.radians, b)
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_MILES * math.asin(min(1.0, math.sqrt(h)))
