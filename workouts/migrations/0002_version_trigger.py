"""PostgreSQL owns the version rule: every UPDATE that changes a versioned row bumps `version`.

Whatever the path (ORM save(), QuerySet.update(), raw SQL, the admin, a data migration), a BEFORE
UPDATE trigger sets `version := OLD.version + 1` when the row's content changed and the statement did
not raise the version itself. Code that bumps explicitly (the batch executors, which write the version
they logged) keeps its value, so a row is bumped exactly once per UPDATE. A write can never lower the
version (a stale save() from a shell gets OLD + 1). Bookkeeping columns named as trigger arguments
(`updated_at`, template `usage_count`) are not content: changing only them does not bump.
"""

from __future__ import annotations

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION hh_bump_version() RETURNS trigger AS $$
BEGIN
    IF NEW.version IS NULL OR NEW.version <= OLD.version THEN
        IF (to_jsonb(NEW) - 'version' - TG_ARGV) IS DISTINCT FROM (to_jsonb(OLD) - 'version' - TG_ARGV) THEN
            NEW.version := OLD.version + 1;
        ELSE
            NEW.version := OLD.version;
        END IF;
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

# table -> bookkeeping columns whose change alone is not a change of the row
TABLES = {
    "workouts_workout": ("updated_at",),
    "workouts_assignment": ("updated_at",),
    "workouts_workouttemplate": ("usage_count",),
}


def trigger_sql(table: str, ignored: tuple[str, ...]) -> str:
    args = ", ".join(f"'{column}'" for column in ignored)
    return (
        f"CREATE TRIGGER {table}_bump_version BEFORE UPDATE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION hh_bump_version({args});"
    )


class Migration(migrations.Migration):
    dependencies = [("workouts", "0001_initial")]

    operations = [
        migrations.RunSQL(FUNCTION, reverse_sql="DROP FUNCTION IF EXISTS hh_bump_version();"),
        *[
            migrations.RunSQL(
                trigger_sql(table, ignored),
                reverse_sql=f"DROP TRIGGER IF EXISTS {table}_bump_version ON {table};",
            )
            for table, ignored in TABLES.items()
        ],
    ]
