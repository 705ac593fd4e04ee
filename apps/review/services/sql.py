"""Small helpers for the set-based SQL of the review services (the same statements on PostgreSQL and SQLite)."""

from __future__ import annotations

from typing import Any

from django.db import connection, models


def param(sql_type: str) -> str:
    """A placeholder typed for PostgreSQL (psycopg sends untyped parameters; a SELECT list needs a type)."""
    return f"CAST(%s AS {sql_type})" if connection.vendor == "postgresql" else "%s"


def db_value(model: type[models.Model], field: str, value: Any) -> Any:
    """``value`` as the database stores ``model.field`` (UUIDs and datetimes differ between backends)."""
    return model._meta.get_field(field).get_db_prep_value(value, connection, prepared=False)


def table(model: type[models.Model]) -> str:
    return model._meta.db_table
