"""The indexes an application writes: a column that is empty for nearly every applicant is
indexed only where it holds something, and nothing is indexed that no read uses."""

import pytest
from django.db import IntegrityError, connection, transaction

from recruitment.models import CriterionVerdict, Participant
from tests.factories import submit

pytestmark = pytest.mark.django_db

PARTIAL = {
    "participant_waitlist": "status",
    "participant_duplicate_of": "duplicate_of_id",
    "participant_entered_by": "entered_by_id",
    "participant_id_unique_in_study": "participant_id",
}


def index_definitions(table: str) -> dict[str, str]:
    """Each index of `table` by name, as the database keeps its definition (lowercase)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s", [table]
            )
        else:
            cursor.execute(
                "SELECT name, coalesce(sql, '') FROM sqlite_master "
                "WHERE type = 'index' AND tbl_name = %s",
                [table],
            )
        return {name: definition.lower() for name, definition in cursor.fetchall()}


@pytest.mark.parametrize(("name", "column"), PARTIAL.items())
def test_a_column_empty_for_most_applicants_is_indexed_only_where_it_is_set(name, column):
    definition = index_definitions(Participant._meta.db_table)[name]

    assert " where " in definition
    assert column in definition.split(" where ", 1)[1]


def test_study_and_status_are_read_through_the_tally_index_alone():
    definitions = index_definitions(Participant._meta.db_table).values()
    by_study_and_status = [
        d for d in definitions if d.replace('"', "").endswith("(study_id, status)")
    ]

    assert by_study_and_status == []


def test_no_history_table_indexes_its_dates():
    history = Participant.history.model._meta.db_table

    assert not any("history_date" in d for d in index_definitions(history).values())


def test_a_verdict_is_keyed_by_its_participant_and_criterion_alone():
    table = CriterionVerdict._meta.db_table
    with connection.cursor() as cursor:
        columns = {c.name for c in connection.introspection.get_table_description(cursor, table)}
    definitions = index_definitions(table)

    assert "id" not in columns
    # One index a verdict writes besides the few not-met ones: the key (PostgreSQL's primary
    # key; SQLite's unique index on the same columns).
    assert sorted(definitions) == [f"{table}_pkey", "verdict_not_met"]
    if connection.vendor != "postgresql":
        assert "unique" in definitions[f"{table}_pkey"]
        assert "(participant_id, criterion_id)" in definitions[f"{table}_pkey"]


def test_a_second_verdict_on_the_same_criterion_is_refused(ldn_study):
    participant = submit(ldn_study)
    verdict = participant.verdicts.first()
    verdict.reason = "a second verdict"

    with pytest.raises(IntegrityError), transaction.atomic():
        CriterionVerdict.objects.bulk_create([verdict])
