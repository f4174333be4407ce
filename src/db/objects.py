"""The SQL files of src/db/sql/: database objects declared once, applied by migrations.

Each file is idempotent (CREATE OR REPLACE, DROP ... IF EXISTS then CREATE), so a migration
applies the current text of a file with one line, `apply_sql("access_rules")`, and a change to
a function or policy is an edit of its file plus a new migration that applies it again.

A migration applies the file as it is *now*: an older migration replayed on a fresh database
(tests, a new installation) applies today's text too. That holds as long as a file refers only
to tables and columns that exist by the first migration applying it; a change that needs a
newer column belongs with the migration adding that column, and the older migrations then
apply the file's earlier text, copied into them (docs/access-rules.md).
"""

from pathlib import Path

SQL_DIR = Path(__file__).with_name("sql")


def sql_text(name: str) -> str:
    return (SQL_DIR / f"{name}.sql").read_text(encoding="utf-8")


def apply_sql(*names: str) -> None:
    """Run the named files in order, inside the running migration's transaction."""
    from alembic import op

    for name in names:
        op.execute(sql_text(name))
