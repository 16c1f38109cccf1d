"""The frozen "today" the tests share: Wednesday 25 November 2026, read in the site's time zone
(America/Chicago: Birmingham, Alabama, six hours behind UTC in November). Tests freeze the
clock at one of these with `time_machine`; a test whose story needs another day names its own."""

import datetime as dt

TODAY = dt.date(2026, 11, 25)
# Noon on TODAY in Birmingham.
NOV_25 = dt.datetime(2026, 11, 25, 18, tzinfo=dt.UTC)
# 06:00 on TODAY in Birmingham (noon UTC): the same day on either side of the time zone.
NOV_25_EARLY = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
