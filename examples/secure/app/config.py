"""Application settings: every security switch defaults to the safe value.

Secrets have no default: Railway injects them (railway variables set JWT_SECRET=...).
"""
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: str = "production"
    debug: bool = False
    development_mode: bool = False
    emergency_auth_mode: bool = False
    enable_mock_authentication: bool = False
    enable_debug_endpoints: bool = False
    verbose_error_messages: bool = False

    jwt_secret: str = Field(min_length=96)
    jwt_algorithm: str = "HS256"
    jwt_blacklist_enabled: bool = True

    allowed_origins: list[str] = ["https://app.velro.example", "https://www.velro.example"]

    auth_rate_limit_login: str = "3/hour"
    auth_rate_limit_register: str = "2/hour"

    supabase_url: str = "https://your-project.supabase.co"
    supabase_service_role_key: str = Field(default="")
    fal_key: str = Field(default="")


settings = Settings()
