"""Raw-SQL data generators checked against the model definitions, so a schema change breaks
the generator in `make bench-smoke` (CI) with a readable message, not in someone's hands.

Every `INSERT INTO <table> (<columns>)` in a generator's SQL is compared with the model that
owns the table: each listed column must exist, and every column the database cannot fill by
itself (NOT NULL, no `db_default`, not an auto-increment key) must be listed.
"""

import re

INSERT = re.compile(r"INSERT\s+INTO\s+(\w+)\s*\(([^)]*)\)", re.IGNORECASE)


def model_for_table(table: str):
    from django.apps import apps

    for model in apps.get_models(include_auto_created=True):
        if model._meta.db_table == table:
            return model
    raise LookupError(f"no model owns the table {table!r}")


def required_columns(model) -> set[str]:
    from django.db import models
    from django.db.models.fields import NOT_PROVIDED

    required = set()
    for field in model._meta.concrete_fields:
        if field.null or field.db_default is not NOT_PROVIDED:
            continue
        if field.primary_key and isinstance(field, models.AutoField):
            continue
        required.add(field.column)
    return required


def check_insert_columns(sql: str) -> int:
    """Raise AssertionError naming the table and the columns if an INSERT in `sql` no longer
    matches its model; return how many INSERT statements were checked."""
    checked = 0
    for table, column_list in INSERT.findall(sql):
        model = model_for_table(table)
        listed = {c.strip() for c in column_list.split(",") if c.strip()}
        known = {f.column for f in model._meta.concrete_fields}
        unknown = listed - known
        missing = required_columns(model) - listed
        assert not unknown and not missing, (
            f"{table} ({model._meta.label}) changed: the generator lists unknown columns {sorted(unknown)} "
            f"and leaves out required columns {sorted(missing)}; update the benchmark's SQL"
        )
        checked += 1
    return checked
