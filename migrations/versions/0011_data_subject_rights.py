"""Data-subject rights: consents as records that can be withdrawn, and erased accounts.

Revision ID: 0011
Revises: 0010

* `consents`: `policy_version` becomes `version`, `granted_at` becomes `given_at`, and a
  withdrawal is recorded in the new `withdrawn_at` (the row stays). `purpose` is now a short
  name (`terms`, `special_information`); the single consent registration recorded so far was to
  the processing of a resident's information to handle their reports, which is the `terms`
  consent. At most one consent per person and purpose is in force (not withdrawn). The
  application may set `withdrawn_at` and nothing else of a consent.
* `users.erased_at`: when the account was anonymised (erasure or retention), so that erasing
  twice is recognised and retention passes over it.

The downgrade drops withdrawn consents (the old table had no way to say "withdrawn") and
gives the remaining `terms` consents their old long purpose back; `special_information`
consents, which did not exist before, are dropped.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

APP_ROLE = "khanyisa_app"
OLD_PURPOSE = "Processing of personal information to handle service reports (POPIA s11)"

UPGRADE = f"""
ALTER TABLE consents RENAME COLUMN policy_version TO version;
ALTER TABLE consents RENAME COLUMN granted_at TO given_at;
ALTER TABLE consents ADD COLUMN withdrawn_at timestamptz;
UPDATE consents SET purpose = 'terms' WHERE purpose = '{OLD_PURPOSE}';
ALTER TABLE consents ADD CONSTRAINT consents_purpose_check CHECK (purpose IN ('terms', 'special_information'));
ALTER TABLE consents ADD CONSTRAINT consents_withdrawn_after_given CHECK (withdrawn_at IS NULL OR withdrawn_at >= given_at);
CREATE UNIQUE INDEX uq_consents_in_force ON consents (municipality_id, user_id, purpose) WHERE withdrawn_at IS NULL;
GRANT UPDATE (withdrawn_at) ON consents TO {APP_ROLE};

ALTER TABLE users ADD COLUMN erased_at timestamptz;
"""

DOWNGRADE = f"""
ALTER TABLE users DROP COLUMN erased_at;

REVOKE UPDATE (withdrawn_at) ON consents FROM {APP_ROLE};
DROP INDEX uq_consents_in_force;
ALTER TABLE consents DROP CONSTRAINT consents_withdrawn_after_given;
ALTER TABLE consents DROP CONSTRAINT consents_purpose_check;
DELETE FROM consents WHERE withdrawn_at IS NOT NULL OR purpose <> 'terms';
UPDATE consents SET purpose = '{OLD_PURPOSE}';
ALTER TABLE consents DROP COLUMN withdrawn_at;
ALTER TABLE consents RENAME COLUMN given_at TO granted_at;
ALTER TABLE consents RENAME COLUMN version TO policy_version;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(DOWNGRADE)
