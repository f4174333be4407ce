"""Read-your-writes on a streaming replica: the WAL position of each user's latest write.

Revision ID: 0008
Revises: 0006

When `DATABASE_READ_URL` names a streaming replica, a user's reads go to the primary until the
replica has replayed the WAL up to the position recorded here after that user's last write
request (src/core/replica.py). One row per user, overwritten by every write request, read in the
same statement that loads the signed-in user, so carrying it costs no extra round trip. It is
kept server-side so bearer-token clients and cookie sessions behave alike.

The row is written by the write's own transaction, just before it commits, so the two become
visible together: on the replica, seeing the row with that position proves the write's commit has
been replayed (comparing `pg_last_wal_replay_lsn()` with a position taken inside the transaction
would not: the commit record comes later in the WAL). The table is therefore an ordinary, logged
table that the replica receives like any other.

The position is written by the write request's transaction, after it has dropped to the
application role: that role may insert and update its own user's row only (row-level security on
`app.user_id`). Sign-in and the replica's check read it as the schema owner.
"""

from alembic import op

revision = "0008"
down_revision = "0006"
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"


def upgrade() -> None:
    op.execute(
        f"""CREATE TABLE user_write_positions (
  user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
  lsn pg_lsn NOT NULL,
  written_at timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 50);
REVOKE ALL ON user_write_positions FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON user_write_positions TO {APP_ROLE};
ALTER TABLE user_write_positions ENABLE ROW LEVEL SECURITY;
CREATE POLICY own_position ON user_write_positions
  USING (user_id = app_user_id()) WITH CHECK (user_id = app_user_id());"""
    )


def downgrade() -> None:
    op.execute("DROP TABLE IF EXISTS user_write_positions;")
