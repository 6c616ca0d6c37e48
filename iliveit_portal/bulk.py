"""Writing many rows' columns in one statement, and one row in one plain statement.

Django's QuerySet.bulk_update builds a CASE WHEN per row and column, and resolving those
expressions is most of a postback drain's time (py-spy: 78% of a drain batch at 200 rows and
19 columns). The same update as `UPDATE ... FROM (VALUES ...)` is one small statement whose
cost is the rows' values alone. On PostgreSQL the values go as one array a column, with
`unnest`: the statement's text is then the same for any number of rows, so psycopg parses its
placeholders once, not once a batch (a VALUES list of 200 rows is too long for its cache, and
parsing it was 14% of a drain's CPU).
"""

from collections.abc import Sequence

from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.db.models import sql


def rows_update(
    objects: Sequence[models.Model],
    fields: Sequence[str],
    *,
    using: str = "default",
    where: models.Q | None = None,
    lock_in_order: bool = False,
):
    """Save `fields` of each of `objects` (all of one model), as bulk_update(objects, fields)
    does; answer the number of rows updated. With `where`, only the rows that also match it
    (as they are in the database) are updated.

    With `lock_in_order`, the statement first locks the rows in primary-key order (FOR NO KEY
    UPDATE), as writers that lock several rows do, so that it cannot deadlock with them; an
    UPDATE alone locks rows in whatever order its plan meets them. One statement, not a
    transaction of a locking SELECT and the UPDATE: one round trip instead of four. In
    bench/send.py a sending worker spent 15% of its time waiting on PostgreSQL (py-spy
    --idle), about 40 ms a round of 50 messages, while pg_stat_activity found its backends
    busy for a third of that: the rest was each side waiting for a CPU on a full machine."""
    if not objects:
        return 0
    model = type(objects[0])
    meta = model._meta
    connection = connections[using]
    quote = connection.ops.quote_name
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    # SQLite names a VALUES list's columns column1, column2, ...; unnest's are named the same.
    names = [f"column{index}" for index in range(1, len(columns) + 1)]
    assignments = ", ".join(
        f"{quote(field.column)} = v.{name}"
        for field, name in zip(columns[1:], names[1:], strict=True)
    )
    table = quote(meta.db_table)
    match = f"{table}.{quote(meta.pk.column)} = v.column1"
    condition_params: list = []
    if where is not None:
        condition, condition_params = _condition(model, where, using)
        match = f"{match} AND {condition}"

    def column_values(chunk: Sequence[models.Model]) -> list[list]:
        return [
            [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in chunk]
            for field in columns
        ]

    cte = ""
    if connection.vendor == "postgresql":
        # Each array cast to its column's type: the values arrive typed, with NULLs.
        arrays = ", ".join(f"%s::{field.db_type(connection)}[]" for field in columns)
        source = f"unnest({arrays}) AS v({', '.join(names)})"
        values = column_values(objects)
        if lock_in_order:
            # A CTE with a locking clause locks its rows after sorting them (the SELECT
            # documentation's "locking clause"). MATERIALIZED runs it once: as a subquery in
            # FROM it was run again for every row joined to it when the statistics said few
            # rows matched `where`, 14 ms a settle of 50 instead of 3 (EXPLAIN ANALYZE).
            pk = quote(meta.pk.column)
            cte = (
                f"WITH l AS MATERIALIZED (SELECT {pk} FROM {table} "  # noqa: S608
                f"WHERE {pk} = ANY(%s::{meta.pk.db_type(connection)}[]) "
                f"ORDER BY {pk} FOR NO KEY UPDATE) "
            )
            source = f"{source}, l"
            match = f"{match} AND {table}.{pk} = l.{pk}"
            values = [values[0], *values]
        statements = [(source, values)]
    else:
        # SQLite has neither arrays nor column types to cast to, and no row locks to order: a
        # writer holds the whole database.
        row = "(" + ", ".join(["%s"] * len(columns)) + ")"
        batch = connection.ops.bulk_batch_size(columns, objects) or len(objects)
        chunks = [objects[start : start + batch] for start in range(0, len(objects), batch)]
        statements = [
            (
                f"(VALUES {', '.join([row] * len(chunk))}) AS v",
                [value for values in zip(*column_values(chunk), strict=True) for value in values],
            )
            for chunk in chunks
        ]
    updated = 0
    with connection.cursor() as cursor:
        for source, params in statements:
            # Only quoted names, types and placeholders are formatted in; every value is a
            # parameter.
            cursor.execute(
                f"{cte}UPDATE {table} SET {assignments} FROM {source} WHERE {match}",  # noqa: S608
                [*params, *condition_params],
            )
            updated += cursor.rowcount
    return updated


def _condition(model, where: models.Q, using: str) -> tuple[str, list]:
    """`where` as SQL on the model's own table (its columns named by the table), with no join."""
    query = sql.Query(model)
    query.add_q(where)
    if query.count_active_tables() != 1:
        raise ValueError("rows_update's condition is on the model's own table, without joins")
    condition, params = query.get_compiler(using).compile(query.where)
    return condition, list(params)


def update_returning_pks(queryset: models.QuerySet, **values) -> list:
    """queryset.update(**values), answering the primary keys of the rows it updated.

    A conditional UPDATE that claims several rows at once must know which of them it won;
    counting them is not enough. Only for an update of the queryset's own table with no join
    (Django would rewrite one as `pk IN (SELECT ...)`, which PostgreSQL does not re-check after
    waiting for a competing update's row lock).
    """
    query = queryset.query.chain(sql.UpdateQuery)
    query.add_update_values(values)
    compiler = query.get_compiler(queryset.db)
    query.get_initial_alias()
    if query.related_updates or query.count_active_tables() != 1:
        raise ValueError("update_returning_pks updates one table, without joins")
    try:
        statement, params = compiler.as_sql()
    except EmptyResultSet:
        return []
    connection = connections[queryset.db]
    pk = connection.ops.quote_name(queryset.model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"{statement} RETURNING {pk}", params)
        return [row[0] for row in cursor.fetchall()]


def row_insert(obj: models.Model, *, using: str = "default") -> None:
    """obj.save() of a new row as one plain INSERT ... RETURNING, without save()'s signals
    and SQL compiler; obj gets its primary key.

    For the postback webhook, whose only statement this is: save()'s signals and compiler were
    a quarter of its CPU per postback on gunicorn (py-spy --gil); with this, one worker's CPU
    per postback went from 1.20 to 1.03 ms.
    """
    meta = obj._meta
    connection = connections[using]
    quote = connection.ops.quote_name
    fields = [field for field in meta.concrete_fields if not field.primary_key]
    values = [field.get_db_prep_save(field.pre_save(obj, add=True), connection) for field in fields]
    columns = ", ".join(quote(field.column) for field in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    with connection.cursor() as cursor:
        # Only quoted names and placeholders are formatted in; every value is a parameter.
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({columns}) "  # noqa: S608
            f"VALUES ({placeholders}) RETURNING {quote(meta.pk.column)}",
            values,
        )
        obj.pk = cursor.fetchone()[0]
    obj._state.adding = False
    obj._state.db = using
