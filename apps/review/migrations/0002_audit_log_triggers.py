"""The review audit log is append-only, whoever writes: updates are refused (PostgreSQL and SQLite), and
deletes too on PostgreSQL (Django's SQLite test flush deletes rows, so SQLite relies on the model's refusal)."""

from django.db import migrations

MESSAGE = "review decisions are an audit log: they cannot be changed or deleted"

POSTGRESQL = (
    [
        f"""CREATE OR REPLACE FUNCTION review_refuse_decision_change() RETURNS trigger AS $$
        BEGIN
          RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'check_violation';
        END $$ LANGUAGE plpgsql""",
        "CREATE TRIGGER review_decision_append_only BEFORE UPDATE OR DELETE ON review_reviewdecision "
        "FOR EACH ROW EXECUTE FUNCTION review_refuse_decision_change()",
    ],
    [
        "DROP TRIGGER IF EXISTS review_decision_append_only ON review_reviewdecision",
        "DROP FUNCTION IF EXISTS review_refuse_decision_change()",
    ],
)

SQLITE = (
    [f"CREATE TRIGGER review_decision_no_update BEFORE UPDATE ON review_reviewdecision "
     f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"],
    ["DROP TRIGGER IF EXISTS review_decision_no_update"],
)


def _statements(vendor: str) -> tuple[list[str], list[str]]:
    return {"postgresql": POSTGRESQL, "sqlite": SQLITE}.get(vendor, ([], []))


def forwards(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor)[0]:
        schema_editor.execute(statement)


def backwards(apps, schema_editor):
    for statement in _statements(schema_editor.connection.vendor)[1]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("review", "0001_initial")]

    operations = [migrations.RunPython(forwards, backwards)]
