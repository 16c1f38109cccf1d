"""One way of writing dates on every English page, the staff pages included: "Dec 7, 2026"
(month first, as the US study's staff write it, and never ambiguous like 12/07/2026). Django's
own English formats apply to everything not set here (the input formats among them)."""

DATE_FORMAT = "M j, Y"
SHORT_DATE_FORMAT = "M j, Y"
DATETIME_FORMAT = "M j, Y, g:i a"
SHORT_DATETIME_FORMAT = "M j, Y, g:i a"
MONTH_DAY_FORMAT = "M j"
YEAR_MONTH_FORMAT = "M Y"
