"""Alembic runs synchronously over psycopg; the URL comes from the caller or DATABASE_URL."""

from alembic import context
from sqlalchemy import create_engine, pool

from src.core.database import sync_url
from src.models import Base

config = context.config
url = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
if not url:
    from src.core.config import get_settings

    url = get_settings().database_url
if not url:
    raise SystemExit("DATABASE_URL is not set")

engine = create_engine(sync_url(url), poolclass=pool.NullPool)
with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=Base.metadata, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
engine.dispose()
