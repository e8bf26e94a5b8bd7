"""Application settings (insecure example: the defaults are what production gets)."""
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: str = "development"
    debug: bool = True
    development_mode: bool = False
    emergency_auth_mode: bool = False
    enable_mock_authentication: bool = False
    verbose_error_messages: bool = Field(default=True)

    jwt_secret: str = "velro-dev-secret-change-me-later-please-0001"
    jwt_algorithm: str = "HS256"

    allowed_origins: list[str] = ["*"]

    auth_rate_limit_login: str = "10/minute"


settings = Settings()
