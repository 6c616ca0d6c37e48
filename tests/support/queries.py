"""How many queries a bulk insert takes on the database the tests run on."""

import math

from django.db import connection

# The batch our code asks bulk_create for (audit entries, opt-outs).
BATCH = 1000


def insert_batches(model, rows: int, batch: int = BATCH) -> int:
    """The INSERTs bulk_create needs for `rows` rows of `model`: `rows / batch` on PostgreSQL,
    more on SQLite, whose statements hold only so many parameters."""
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    per_query = min(batch, connection.ops.bulk_batch_size(fields, [None] * rows))
    return math.ceil(rows / per_query)
