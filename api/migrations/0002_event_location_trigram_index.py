"""A trigram index for the events list's location filter, on PostgreSQL only.

``location`` filters with ``icontains``, which Django turns into
``UPPER(location::text) LIKE UPPER('%...%')`` on PostgreSQL: no B-tree can serve a
substring, so without this index every filtered list reads the whole table (bench/run.py
--scale: 280 ms at a million events, 17 ms with it). The index is on that exact
expression. It is built CONCURRENTLY, so creating it on a large table does not block
writes; that needs a migration outside a transaction. SQLite, the embedded default,
gets nothing: it has no such index type.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

INDEX = "event_location_trgm_idx"


def create_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    # pg_trgm is a trusted extension (PostgreSQL 13+): the database owner may create it.
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
        "ON api_event USING gin (UPPER(location) gin_trgm_ops)"
    )


def drop_index(apps: Any, schema_editor: Any) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("api", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index, elidable=False),
    ]
