"""The rows a call writes, recorded once and inserted again for each test that needs them.

Loading the LDN study's file validates every criterion and the question bank (a few hundred
milliseconds of CPU), and most tests begin with it; inserting the rows it wrote takes a few
bulk inserts. The rows are recorded from an empty database in a transaction that is rolled
back; each insert gives them new primary keys, points their foreign keys at the new rows and
stamps the times the call stamped (auto_now fields, history dates) with the time of the insert.
tests/studies/test_ldn_fixture.py compares the inserted rows with the loader's own.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models, transaction
from django.utils import timezone

# The task queue's rows are what a call asks to happen next, not data: the caller enqueues its
# tasks again (the rematch of a loaded study, tests/conftest.py).
IGNORED_APPS = frozenset({"django_tasks_database"})
# Rows the database writes itself (triggers), not the call: the criteria's change stamp is
# written again by the database when the recorded criteria are inserted.
IGNORED_MODELS = frozenset({"recruitment.CriteriaStamp"})


class _RolledBack(Exception):
    pass


def _instance_model(model) -> type[models.Model] | None:
    """The model a django-simple-history table records, or None."""
    return getattr(model, "instance_type", None)


def _references(model, written) -> dict[str, type[models.Model]]:
    """The columns of `model` that hold a primary key of a written model, by attname."""
    refs = {}
    for field in model._meta.concrete_fields:
        if field.is_relation and field.related_model in written:
            if field.target_field != field.related_model._meta.pk:
                raise ValueError(f"{model.__name__}.{field.name} points at a column not the pk")
            refs[field.attname] = field.related_model
    instance = _instance_model(model)
    if instance in written:
        refs[instance._meta.pk.attname] = instance
    return refs


def _in_dependency_order(written: dict) -> list[type[models.Model]]:
    ordered: list[type[models.Model]] = []
    pending = dict.fromkeys(written)
    while pending:
        ready = [
            m
            for m in pending
            if all(t in ordered or t is m for t in _references(m, written).values())
        ]
        if not ready:
            raise ValueError(f"foreign keys in a cycle: {sorted(m.__name__ for m in pending)}")
        for model in ready:
            ordered.append(model)
            del pending[model]
    return ordered


@dataclass(frozen=True)
class Table:
    model: type[models.Model]
    rows: tuple[dict[str, Any], ...]  # every concrete column by attname, pk included


@dataclass(frozen=True)
class WrittenRows:
    tables: tuple[Table, ...]
    returned: tuple[type[models.Model], Any]  # the model and pk of the object the call returned
    stamped: tuple[tuple[type[models.Model], str], ...]  # datetime columns set to "now"
    started: dt.datetime
    ended: dt.datetime

    def insert(self) -> models.Model:
        """Insert the rows again (new primary keys, times stamped now), in one transaction;
        return the object the recorded call returned, read back from the database."""
        now = timezone.now()
        new_pks: dict[type[models.Model], dict[Any, Any]] = {}
        with transaction.atomic():
            for table in self.tables:
                model, pk = table.model, table.model._meta.pk.attname
                refs = _references(model, new_pks)
                stamped = [name for m, name in self.stamped if m is model]
                objs = []
                for row in table.rows:
                    values = {k: v for k, v in row.items() if k != pk}
                    for attname, target in refs.items():
                        if values[attname] is not None:
                            values[attname] = new_pks[target][values[attname]]
                    for name in stamped:
                        if values[name] is not None and self.started <= values[name] <= self.ended:
                            values[name] = now
                    objs.append(model(**values))
                created = model._meta.base_manager.bulk_create(objs)
                new_pks[model] = {
                    row[pk]: obj.pk for row, obj in zip(table.rows, created, strict=True)
                }
            model, old_pk = self.returned
            return model._meta.base_manager.get(pk=new_pks[model][old_pk])

    def comparable(self) -> dict[str, list[dict[str, Any]]]:
        """The rows with every primary key (and every reference to one) replaced by the row's
        place in its table, and every time the call stamped replaced by "now": two recordings
        of the same writes compare equal whatever keys and clock they ran with."""
        place = {
            t.model: {row[t.model._meta.pk.attname]: i for i, row in enumerate(t.rows)}
            for t in self.tables
        }
        out = {}
        for table in self.tables:
            model, pk = table.model, table.model._meta.pk.attname
            refs = _references(model, place)
            stamped = {name for m, name in self.stamped if m is model}
            rows = []
            for row in table.rows:
                values = dict(row, **{pk: place[model][row[pk]]})
                for attname, target in refs.items():
                    if values[attname] is not None:
                        values[attname] = (target._meta.label, place[target][values[attname]])
                for name in stamped:
                    if values[name] is not None and self.started <= values[name] <= self.ended:
                        values[name] = "now"
                rows.append(values)
            out[model._meta.label] = rows
        model, old_pk = self.returned
        out["returned"] = [{"model": model._meta.label, "row": place[model][old_pk]}]
        return out


def rows_written_by(call: Callable[[], models.Model], *, ignored_apps=IGNORED_APPS) -> WrittenRows:
    """Run `call` in a transaction that is then rolled back, and record every row it added
    (rows it changed or deleted are not recorded: the call must only add)."""
    every = [
        m
        for m in apps.get_models(include_auto_created=True)
        if m._meta.app_label not in ignored_apps
        and m._meta.label not in IGNORED_MODELS
        and m._meta.managed
        and not m._meta.proxy
    ]
    recorded: list[WrittenRows] = []
    try:
        with transaction.atomic():
            before = {m: set(m._meta.base_manager.values_list("pk", flat=True)) for m in every}
            started = timezone.now()
            returned = call()
            ended = timezone.now()
            written = {}
            for model in every:
                if model._meta.parents:
                    raise ValueError(f"{model.__name__}: multi-table inheritance")
                names = [f.attname for f in model._meta.concrete_fields]
                rows = [
                    row
                    for row in model._meta.base_manager.order_by("pk").values(*names)
                    if row[model._meta.pk.attname] not in before[model]
                ]
                if rows:
                    written[model] = tuple(rows)
            for model, rows in written.items():
                own = [a for a, target in _references(model, written).items() if target is model]
                if any(row[a] is not None for row in rows for a in own):
                    raise ValueError(f"{model.__name__}: rows that point at each other")
            stamped = tuple(
                (model, field.attname)
                for model in written
                for field in model._meta.concrete_fields
                if isinstance(field, models.DateTimeField)
            )
            recorded.append(
                WrittenRows(
                    tables=tuple(Table(m, written[m]) for m in _in_dependency_order(written)),
                    returned=(type(returned), returned.pk),
                    stamped=stamped,
                    started=started,
                    ended=ended,
                )
            )
            raise _RolledBack
    except _RolledBack:
        pass
    return recorded[0]
