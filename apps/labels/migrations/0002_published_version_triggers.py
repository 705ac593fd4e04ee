"""Database triggers that keep a published label system version immutable, whoever writes (raw SQL too).

PostgreSQL: inserts, content updates and deletes of tags/groups of a published version are refused, and so are
changes to a published version's status, number or label system, and its deletion.
SQLite: the same, except deletes (Django's SQLite flush deletes tables in arbitrary order, so a delete trigger
would break test flushes; the models and a pre_delete check refuse deletes there).
Updates that only null an audit column (a deleted user) stay allowed.
"""

from django.db import migrations

MESSAGE = "label system version is published and cannot be changed; create a draft copy"
TAG_COLUMNS = ["version_id", "group_id", "position", "text", "homonym", "category", "name_zh", "descriptions",
               "threshold", "threshold_text", "provenance"]
GROUP_COLUMNS = ["version_id", "index"]
VERSION_COLUMNS = ["label_system_id", "number", "status"]
CONTENT_TABLES = {"labels_tag": TAG_COLUMNS, "labels_taggroup": GROUP_COLUMNS}


def _changed(columns: list[str]) -> str:
    return " OR ".join(f'NEW."{c}" IS NOT OLD."{c}"' for c in columns)


def _pg_changed(columns: list[str]) -> str:
    return " OR ".join(f'NEW."{c}"::text IS DISTINCT FROM OLD."{c}"::text' for c in columns)


def _published(version_column: str) -> str:
    return (f"EXISTS (SELECT 1 FROM labels_labelsystemversion v "
            f"WHERE v.id = {version_column} AND v.status = 'published')")


def sqlite_sql() -> tuple[list[str], list[str]]:
    create, drop = [], []
    for table, columns in CONTENT_TABLES.items():
        create += [
            f"CREATE TRIGGER {table}_published_insert BEFORE INSERT ON {table} "
            f"WHEN {_published('NEW.version_id')} BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
            f"CREATE TRIGGER {table}_published_update BEFORE UPDATE ON {table} "
            f"WHEN ({_published('OLD.version_id')} OR {_published('NEW.version_id')}) AND ({_changed(columns)}) "
            f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END",
        ]
        drop += [f"DROP TRIGGER IF EXISTS {table}_published_insert", f"DROP TRIGGER IF EXISTS {table}_published_update"]
    create.append(
        "CREATE TRIGGER labels_version_published_update BEFORE UPDATE ON labels_labelsystemversion "
        f"WHEN OLD.status = 'published' AND ({_changed(VERSION_COLUMNS)}) "
        f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END")
    drop.append("DROP TRIGGER IF EXISTS labels_version_published_update")
    return create, drop


def postgresql_sql() -> tuple[list[str], list[str]]:
    create = [
        f"""CREATE OR REPLACE FUNCTION labels_refuse_published_content() RETURNS trigger AS $$
        BEGIN
          IF TG_OP <> 'INSERT' AND {_published('OLD.version_id')} THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
          END IF;
          IF TG_OP <> 'DELETE' AND {_published('NEW.version_id')} THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
        f"""CREATE OR REPLACE FUNCTION labels_refuse_published_version() RETURNS trigger AS $$
        BEGIN
          IF OLD.status = 'published' THEN
            RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
          END IF;
          IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
          RETURN NEW;
        END $$ LANGUAGE plpgsql""",
    ]
    drop = []
    for table, columns in CONTENT_TABLES.items():
        create += [
            f"CREATE TRIGGER {table}_published_insert_delete BEFORE INSERT OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION labels_refuse_published_content()",
            f"CREATE TRIGGER {table}_published_update BEFORE UPDATE ON {table} FOR EACH ROW "
            f"WHEN ({_pg_changed(columns)}) EXECUTE FUNCTION labels_refuse_published_content()",
        ]
        drop += [f"DROP TRIGGER IF EXISTS {table}_published_insert_delete ON {table}",
                 f"DROP TRIGGER IF EXISTS {table}_published_update ON {table}"]
    create += [
        "CREATE TRIGGER labels_version_published_update BEFORE UPDATE ON labels_labelsystemversion FOR EACH ROW "
        f"WHEN ({_pg_changed(VERSION_COLUMNS)}) EXECUTE FUNCTION labels_refuse_published_version()",
        "CREATE TRIGGER labels_version_published_delete BEFORE DELETE ON labels_labelsystemversion FOR EACH ROW "
        "EXECUTE FUNCTION labels_refuse_published_version()",
    ]
    drop += ["DROP TRIGGER IF EXISTS labels_version_published_update ON labels_labelsystemversion",
             "DROP TRIGGER IF EXISTS labels_version_published_delete ON labels_labelsystemversion",
             "DROP FUNCTION IF EXISTS labels_refuse_published_content()",
             "DROP FUNCTION IF EXISTS labels_refuse_published_version()"]
    return create, drop


def _statements(vendor: str) -> tuple[list[str], list[str]]:
    if vendor == "postgresql":
        return postgresql_sql()
    if vendor == "sqlite":
        return sqlite_sql()
    return [], []  # other databases: the model-level checks still apply


def forwards(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor)[0]:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor)[1]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("labels", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
