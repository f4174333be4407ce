"""Settings read from the environment (and `.env` when present)."""

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str | None = None
    database_read_url: str | None = None
    read_replica_max_lag_seconds: float = Field(default=30.0, ge=0)
    secret_key: str | None = None
    # The master key of sensitive text (src/core/sealing.py); old keys only while `rotate-keys` runs.
    data_encryption_key: str | None = None
    data_encryption_old_keys: str | None = None
    access_token_minutes: int = Field(default=480, ge=1, le=60 * 24 * 30)
    sla_sweep_seconds: float = Field(default=60.0, ge=0)
    # Residents whose reports were all closed this many years ago are anonymised (src/services/retention.py).
    retention_years: int = Field(default=5, ge=1, le=100)
    # Whether each server process runs retention once a day (off when `khanyisa retention` runs from cron).
    retention_daily: bool = True
    data_dir: str = ".data"
    media_dir: str = ".data/media"  # ticket photos, outside the database
    # None means "decide from the deployment": Secure cookies and HSTS whenever DATABASE_URL is set.
    cookie_secure: bool | None = None
    db_pool_size: int = Field(default=10, ge=1)
    log_level: str = "INFO"
    redis_url: str | None = None
    # Addresses or CIDRs of reverse proxies whose X-Forwarded-For is believed (comma-separated).
    trusted_proxies: str = ""
    rate_limits: bool = True
    api_docs: bool = True

    @property
    def secure_cookies(self) -> bool:
        return self.cookie_secure if self.cookie_secure is not None else bool(self.database_url)


@lru_cache
def get_settings() -> Settings:
    return Settings()
