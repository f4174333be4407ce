"""Server-side sessions, TOTP two-factor sign-in and the municipality's TOTP requirement.

Revision ID: 0005
Revises: 0004

* `sessions`: one row per sign-in. Every access token and session cookie names its row (`sid`),
  and each request loads it together with the user (primary key lookup), so ending a session
  (logout, a password change, deactivation, a change of role, ward or team) refuses its token at
  once. `last_used_at` is refreshed at most once a minute. Tenant row-level security like every
  tenant table; rows go with their user.
* `users.totp_secret` / `users.totp_enabled`: an enrolment is pending until a code confirms it.
* `municipalities.require_totp`: admins and SAPS liaisons of that municipality must use TOTP.
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"

UPGRADE = f"""
CREATE TABLE sessions (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  municipality_id uuid NOT NULL REFERENCES municipalities(id),
  user_id uuid NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_used_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  ended_at timestamptz,
  address varchar(45),
  user_agent varchar(300),
  FOREIGN KEY (municipality_id, user_id) REFERENCES users(municipality_id, id) ON DELETE CASCADE
);
-- Listing and ending one user's live sessions.
CREATE INDEX ix_sessions_user ON sessions (municipality_id, user_id) WHERE ended_at IS NULL;
ALTER TABLE sessions ENABLE ROW LEVEL SECURITY;
CREATE POLICY tenant ON sessions USING (municipality_id = app_municipality_id())
  WITH CHECK (municipality_id = app_municipality_id());
GRANT SELECT, INSERT, UPDATE ON sessions TO {APP_ROLE};

ALTER TABLE users ADD COLUMN totp_secret varchar(64), ADD COLUMN totp_enabled boolean NOT NULL DEFAULT false,
  ADD CONSTRAINT totp_enabled_has_secret CHECK (NOT totp_enabled OR totp_secret IS NOT NULL);
ALTER TABLE municipalities ADD COLUMN require_totp boolean NOT NULL DEFAULT false;
"""

DOWNGRADE = """
ALTER TABLE municipalities DROP COLUMN IF EXISTS require_totp;
ALTER TABLE users DROP CONSTRAINT IF EXISTS totp_enabled_has_secret,
  DROP COLUMN IF EXISTS totp_enabled, DROP COLUMN IF EXISTS totp_secret;
DROP TABLE IF EXISTS sessions;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
