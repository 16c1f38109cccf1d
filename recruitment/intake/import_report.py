"""What an import's dry run found, or what its real run did: row errors and the summary."""

from dataclasses import dataclass, field

from django.utils.translation import ngettext


@dataclass(frozen=True)
class RowError:
    row: int  # the CSV row number: the header is row 1, the first data row row 2
    column: str  # the column name, or "" for the row as a whole
    message: str

    def __str__(self) -> str:
        if self.column:
            return f"Row {self.row}, {self.column}: {self.message}"
        return f"Row {self.row}: {self.message}"


@dataclass
class ImportReport:
    """What a dry run found, or what a real run did."""

    dry_run: bool
    rows: int = 0
    valid: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    duplicates: int = 0  # rows marked (or to be marked) as possible duplicates
    created: list[str] = field(default_factory=list)  # screening numbers, in order
    applied: str = ""  # where the dates of application come from, in words

    @property
    def rows_with_errors(self) -> int:
        return len({error.row for error in self.errors})

    @property
    def imported(self) -> bool:
        return bool(self.created)

    def summary(self) -> list[str]:
        """The report's lines, without the row errors."""
        lines = []
        if self.imported:
            lines.append(
                ngettext(
                    "Imported %(count)d participant: %(first)s.",
                    "Imported %(count)d participants: %(first)s to %(last)s.",
                    len(self.created),
                )
                % {"count": len(self.created), "first": self.created[0], "last": self.created[-1]}
            )
            lines.append(
                ngettext(
                    "%(count)d is marked as a possible duplicate.",
                    "%(count)d are marked as possible duplicates.",
                    self.duplicates,
                )
                % {"count": self.duplicates}
            )
            if self.applied:
                lines.append(self.applied)
            return lines
        lines.append(
            ngettext("%(valid)d row valid", "%(valid)d rows valid", self.valid)
            % {"valid": self.valid}
            + ", "
            + ngettext(
                "%(invalid)d row with errors.",
                "%(invalid)d rows with errors.",
                self.rows_with_errors,
            )
            % {"invalid": self.rows_with_errors}
        )
        lines.append(
            ngettext(
                "%(count)d row would be marked as a possible duplicate "
                "(of an existing participant or of an earlier row).",
                "%(count)d rows would be marked as possible duplicates "
                "(of existing participants or of earlier rows).",
                self.duplicates,
            )
            % {"count": self.duplicates}
        )
        if self.applied:
            lines.append(self.applied)
        return lines
