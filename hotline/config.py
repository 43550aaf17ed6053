"""Settings read from the environment (prefix HOTLINE_)."""

from functools import cached_property
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    """Everything configurable about one Hotline installation."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    mail_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = "dev-insecure-change-me"
    demo_mode: bool = False
    demo_password: str = "hotline-demo"
    cti_token: str = "demo-cti-token"
    mail_from: str = "noreply@digitalhotline.example"
    kb_rules_dir: Path = PROJECT_ROOT / "kb_rules"
    letterheads_dir: Path = PROJECT_ROOT / "letterheads"
    session_max_age_s: int = 8 * 3600
    outbox_interval_s: float = 5.0
    outbox_worker: bool = True
    max_body_bytes: int = 2 * 1024 * 1024

    @cached_property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to a SQLite file under the data dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'hotline.sqlite3').resolve()}"

    @cached_property
    def resolved_mail_url(self) -> str:
        """The mail URL, defaulting to a Maildir under the data dir."""
        if self.mail_url:
            return self.mail_url
        return f"maildir://{(self.data_dir / 'mail').resolve()}"

    @property
    def secure_cookies(self) -> bool:
        """Whether cookies get the Secure flag (off for plain-HTTP loopback)."""
        return self.host not in ("127.0.0.1", "localhost", "::1")
