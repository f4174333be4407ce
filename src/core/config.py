"""Settings read from the environment (and `.env` when present)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = None
    database_read_url: str | None = None
    secret_key: str | None = None
    access_token_minutes: int = Field(default=480, ge=1, le=60 * 24 * 30)
    sla_sweep_seconds: float = Field(default=60.0, ge=0)
    data_dir: str = ".data"
    media_dir: str = ".data/media"  # ticket photos, outside the database
    cookie_secure: bool = False
    db_pool_size: int = Field(default=10, ge=1)
    log_level: str = "INFO"


@lru_cache
def get_settings() -> Settings:
    return Settings()
