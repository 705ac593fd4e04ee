"""Database triggers that keep a sealed dataset version immutable, whoever writes (COPY and raw SQL too).

Rows of captions and tag assignments belong to the version that added them (``added_in_seq``) and to the one
that removed them (``removed_in_seq``). Refused, when either version is sealed:
- inserting a row (also a row whose version does not exist),
- changing any column of a row added in a sealed version, except setting ``removed_in_seq`` to an unsealed
  version (that is how a child version removes a row),
- changing ``removed_in_seq`` away from, or to, a sealed version,
- deleting the row (PostgreSQL only: Django's SQLite flush deletes tables in arbitrary order, so delete
  triggers would break test flushes; services refuse deletes there).
Images: rows added in a sealed version keep their uri/dataset; width/height/checksum may only be filled in
from empty (they are facts about the file, measured lazily). A sealed version itself cannot be unsealed, moved
or re-parented, nor deleted (PostgreSQL).
PostgreSQL uses statement-level triggers with transition tables, so a COPY of a million rows costs one check.
"""

from django.db import migrations

MESSAGE = "dataset version is sealed: its rows cannot change; create a child version instead"
ROW_TABLES = {
    "datasets_caption": ["dataset_id", "image_id", "text", "source", "box", "added_in_seq"],
    "datasets_tagassignment": ["dataset_id", "image_id", "tag_group_id", "caption_id", "source", "score",
                               "added_in_seq"],
}
IMAGE_FIXED = ["dataset_id", "uri", "added_in_seq"]
IMAGE_FACTS = ["width", "height", "checksum"]
VERSION_FIXED = ["dataset_id", "seq", "parent_id", "label_system_version_id"]


def _sealed(ds: str, seq: str, true: str) -> str:
    return (f"EXISTS (SELECT 1 FROM datasets_datasetversion v WHERE v.dataset_id = {ds} AND v.seq = {seq} "
            f"AND v.sealed = {true})")


def _open(ds: str, seq: str, false: str) -> str:
    """The version exists and is not sealed."""
    return (f"EXISTS (SELECT 1 FROM datasets_datasetversion v WHERE v.dataset_id = {ds} AND v.seq = {seq} "
            f"AND v.sealed = {false})")


# --- SQLite ----------------------------------------------------------------------------------------------


def _sq_changed(columns: list[str]) -> str:
    return " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in columns)


def sqlite_sql() -> tuple[list[str], list[str]]:
    create, drop = [], []
    raise_ = f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
    for table, columns in ROW_TABLES.items():
        bad_insert = (f"NOT {_open('NEW.dataset_id', 'NEW.added_in_seq', '0')} OR (NEW.removed_in_seq IS NOT NULL "
                      f"AND NOT {_open('NEW.dataset_id', 'NEW.removed_in_seq', '0')})")
        bad_update = (
            f"(({_sq_changed(columns)}) AND ({_sealed('OLD.dataset_id', 'OLD.added_in_seq', '1')} "
            f"OR NOT {_open('NEW.dataset_id', 'NEW.added_in_seq', '0')})) "
            f"OR (NEW.removed_in_seq IS NOT OLD.removed_in_seq AND ("
            f"{_sealed('OLD.dataset_id', 'OLD.removed_in_seq', '1')} OR (NEW.removed_in_seq IS NOT NULL AND NOT "
            f"{_open('NEW.dataset_id', 'NEW.removed_in_seq', '0')})))"
        )
        create += [
            f"CREATE TRIGGER {table}_sealed_insert BEFORE INSERT ON {table} WHEN {bad_insert} {raise_}",
            f"CREATE TRIGGER {table}_sealed_update BEFORE UPDATE ON {table} WHEN {bad_update} {raise_}",
        ]
        drop += [f"DROP TRIGGER IF EXISTS {table}_sealed_insert", f"DROP TRIGGER IF EXISTS {table}_sealed_update"]
    image_bad_update = (
        f"{_sealed('OLD.dataset_id', 'OLD.added_in_seq', '1')} AND (({_sq_changed(IMAGE_FIXED)}) OR "
        + " OR ".join(f"(OLD.{c} IS NOT NULL AND OLD.{c} != '' AND NEW.{c} IS NOT OLD.{c})" for c in IMAGE_FACTS)
        + ")"
    )
    create += [
        f"CREATE TRIGGER datasets_image_sealed_insert BEFORE INSERT ON datasets_image "
        f"WHEN NOT {_open('NEW.dataset_id', 'NEW.added_in_seq', '0')} {raise_}",
        f"CREATE TRIGGER datasets_image_sealed_update BEFORE UPDATE ON datasets_image WHEN {image_bad_update} {raise_}",
        f"CREATE TRIGGER datasets_version_sealed_update BEFORE UPDATE ON datasets_datasetversion "
        f"WHEN OLD.sealed = 1 AND (NEW.sealed = 0 OR {_sq_changed(VERSION_FIXED)}) {raise_}",
    ]
    drop += ["DROP TRIGGER IF EXISTS datasets_image_sealed_insert", "DROP TRIGGER IF EXISTS datasets_image_sealed_update",
             "DROP TRIGGER IF EXISTS datasets_version_sealed_update"]
    return create, drop


# --- PostgreSQL ------------------------------------------------------------------------------------------


def _pg_changed(columns: list[str], old: str = "o", new: str = "n") -> str:
    return " OR ".join(f'{new}."{c}"::text IS DISTINCT FROM {old}."{c}"::text' for c in columns)


def _pg_raise() -> str:
    return f"RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';"


def _pg_function(name: str, condition: str) -> str:
    return (f"CREATE OR REPLACE FUNCTION {name}() RETURNS trigger AS $$ BEGIN IF {condition} THEN {_pg_raise()} "
            f"END IF; RETURN NULL; END; $$ LANGUAGE plpgsql")


def postgresql_sql() -> tuple[list[str], list[str]]:
    create, drop = [], []
    for table, columns in ROW_TABLES.items():
        bad_insert = (f"EXISTS (SELECT 1 FROM new_rows n WHERE NOT {_open('n.dataset_id', 'n.added_in_seq', 'false')} "
                      f"OR (n.removed_in_seq IS NOT NULL AND NOT {_open('n.dataset_id', 'n.removed_in_seq', 'false')}))")
        bad_update = (
            f"EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
            f"(({_pg_changed(columns)}) AND ({_sealed('o.dataset_id', 'o.added_in_seq', 'true')} "
            f"OR NOT {_open('n.dataset_id', 'n.added_in_seq', 'false')})) "
            f"OR (n.removed_in_seq IS DISTINCT FROM o.removed_in_seq AND ("
            f"{_sealed('o.dataset_id', 'o.removed_in_seq', 'true')} OR (n.removed_in_seq IS NOT NULL AND NOT "
            f"{_open('n.dataset_id', 'n.removed_in_seq', 'false')}))))"
        )
        bad_delete = (f"EXISTS (SELECT 1 FROM old_rows o WHERE {_sealed('o.dataset_id', 'o.added_in_seq', 'true')} "
                      f"OR {_sealed('o.dataset_id', 'o.removed_in_seq', 'true')})")
        for op, condition, refs in (("insert", bad_insert, "NEW TABLE AS new_rows"),
                                    ("update", bad_update, "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                                    ("delete", bad_delete, "OLD TABLE AS old_rows")):
            function = f"{table}_sealed_{op}_check"
            create += [
                _pg_function(function, condition),
                f"CREATE TRIGGER {table}_sealed_{op} AFTER {op.upper()} ON {table} REFERENCING {refs} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
            ]
            drop += [f"DROP TRIGGER IF EXISTS {table}_sealed_{op} ON {table}", f"DROP FUNCTION IF EXISTS {function}()"]
    image_bad_insert = (f"EXISTS (SELECT 1 FROM new_rows n WHERE NOT "
                        f"{_open('n.dataset_id', 'n.added_in_seq', 'false')})")
    image_bad_update = (
        f"EXISTS (SELECT 1 FROM old_rows o JOIN new_rows n ON n.id = o.id WHERE "
        f"{_sealed('o.dataset_id', 'o.added_in_seq', 'true')} AND (({_pg_changed(IMAGE_FIXED)}) OR "
        + " OR ".join(f"(o.{c} IS NOT NULL AND o.{c}::text <> '' AND n.{c}::text IS DISTINCT FROM o.{c}::text)"
                      for c in IMAGE_FACTS)
        + "))"
    )
    image_bad_delete = f"EXISTS (SELECT 1 FROM old_rows o WHERE {_sealed('o.dataset_id', 'o.added_in_seq', 'true')})"
    for op, condition, refs in (("insert", image_bad_insert, "NEW TABLE AS new_rows"),
                                ("update", image_bad_update, "OLD TABLE AS old_rows NEW TABLE AS new_rows"),
                                ("delete", image_bad_delete, "OLD TABLE AS old_rows")):
        function = f"datasets_image_sealed_{op}_check"
        create += [
            _pg_function(function, condition),
            f"CREATE TRIGGER datasets_image_sealed_{op} AFTER {op.upper()} ON datasets_image REFERENCING {refs} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()",
        ]
        drop += [f"DROP TRIGGER IF EXISTS datasets_image_sealed_{op} ON datasets_image",
                 f"DROP FUNCTION IF EXISTS {function}()"]
    version_changed = " OR ".join(f'NEW."{c}" IS DISTINCT FROM OLD."{c}"' for c in VERSION_FIXED)
    create += [
        f"""CREATE OR REPLACE FUNCTION datasets_version_sealed_check() RETURNS trigger AS $$ BEGIN
          IF OLD.sealed AND (TG_OP = 'DELETE' OR NOT NEW.sealed OR {version_changed}) THEN {_pg_raise()} END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW; END; $$ LANGUAGE plpgsql""",
        "CREATE TRIGGER datasets_version_sealed BEFORE UPDATE OR DELETE ON datasets_datasetversion "
        "FOR EACH ROW EXECUTE FUNCTION datasets_version_sealed_check()",
    ]
    drop += ["DROP TRIGGER IF EXISTS datasets_version_sealed ON datasets_datasetversion",
             "DROP FUNCTION IF EXISTS datasets_version_sealed_check()"]
    return create, drop


def _run(schema_editor, which: int) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        statements = postgresql_sql()[which]
    elif vendor == "sqlite":
        statements = sqlite_sql()[which]
    else:
        return
    for statement in statements:
        schema_editor.execute(statement)


def create_triggers(apps, schema_editor) -> None:
    _run(schema_editor, 0)


def drop_triggers(apps, schema_editor) -> None:
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [("datasets", "0001_initial")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
