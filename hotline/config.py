"""Settings read from the environment (prefix HOTLINE_)."""

import math
from functools import cached_property
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SECRET_KEY = "dev-insecure-change-me"
DEFAULT_CTI_TOKEN = "demo-cti-token"


class Settings(BaseSettings):
    """Everything configurable about one Hotline installation."""

    model_config = SettingsConfigDict(env_prefix="HOTLINE_", extra="ignore")

    data_dir: Path = Path("var")
    database_url: str = ""
    mail_url: str = ""
    host: str = "127.0.0.1"
    port: int = 8000
    secret_key: str = DEFAULT_SECRET_KEY
    demo_mode: bool = False
    demo_password: str = "hotline-demo"
    cti_token: str = DEFAULT_CTI_TOKEN
    # After `hotline cti rotate`, the old token keeps working this long (the phone system switches).
    cti_rotation_grace_hours: float = Field(default=24.0, ge=0, allow_inf_nan=False)
    # An answer or hangup that arrives before its newCall is kept this long for it.
    cti_hold_seconds: int = Field(default=300, ge=1)
    # A waiting call the phone system says nothing more about for this long is closed as lost.
    cti_silent_call_minutes: int = Field(default=60, ge=1)
    # None: Secure cookies unless served on loopback; set true behind a TLS-terminating proxy.
    secure_cookies: bool | None = None
    mail_from: str = "noreply@digitalhotline.example"
    kb_rules_dir: Path = PROJECT_ROOT / "kb_rules"
    # A rule whose newest source check is older than this is flagged "needs checking".
    rules_verify_after_days: int = 365
    letterheads_dir: Path = PROJECT_ROOT / "letterheads"
    # A session ends this long after login however busy (absolute), and after
    # session_idle_minutes without a request (an open console's live stream counts).
    session_max_age_s: int = 8 * 3600
    session_idle_minutes: int = Field(default=60, ge=5)
    # Login lockout (hotline/auth/lockout.py): a username failing from one address waits
    # login_slowdown_s x 2^(n-2) s after its n-th failure (n >= 2), and is locked there at
    # login_max_failures failed logins in the last login_lockout_minutes; a client address with
    # login_max_failures_per_ip is locked for every username. A lock lifts when the oldest
    # failure that makes the count is that old.
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_ip: int = Field(default=30, ge=1)
    login_lockout_minutes: int = Field(default=15, ge=1)
    login_slowdown_s: float = Field(default=2.0, ge=0)
    outbox_interval_s: float = 5.0
    # How long a claimed e-mail stays "sending" before a worker on another host may send it again
    # (on the same host it is taken back at once when its worker has ended): keep it well above
    # the longest a send can take, or a slow send is sent twice.
    outbox_lease_s: float = 600.0
    # How many e-mails are sent at once, each on its own connection (one slow server or recipient
    # then holds up only its own).
    outbox_connections: int = Field(default=4, ge=1, le=32)
    outbox_worker: bool = True
    # E-mail new callbacks to the municipality's admins from inside the web server; None: as
    # outbox_worker (set true when `hotline outbox run` delivers the replies elsewhere).
    callback_mail_worker: bool | None = None
    # Make each month's bill bases on the 1st and e-mail them to the municipalities from inside
    # the web server; None: as outbox_worker.
    bill_mail_worker: bool | None = None
    # Sent replies keep their PDF and personal content this long; 5 years, see the README.
    archive_retention_days: int = 1826
    # Calls lose the caller's number and the notes this long after they ended; see the README.
    call_retention_days: int = 90
    purge_worker: bool = True
    # An available agent whose consoles have all been closed this long is made away.
    console_gone_after_s: int = 90
    max_body_bytes: int = 2 * 1024 * 1024
    # Worker processes that render PDFs for the server (None: one per core; 0: in its threads).
    render_processes: int | None = Field(default=None, ge=0)
    # Worker processes that make call-detail exports (None: one per core; 0: in its threads).
    export_processes: int | None = Field(default=None, ge=0)
    # Where citizens reach this installation (https://hotline.example.dk), for links in e-mail
    # such as the satisfaction survey's; empty: e-mails carry no link.
    public_url: str = ""
    # A satisfaction survey link works this many days after it was made.
    survey_days: int = Field(default=14, ge=1)
    # `hotline cti asterisk`: Asterisk's manager interface (AMI) and the queues it reports.
    asterisk_host: str = "127.0.0.1"
    asterisk_port: int = Field(default=5038, ge=1, le=65535)
    asterisk_username: str = ""
    asterisk_secret: str = ""
    # A comma list of queue names; empty: every queue.
    asterisk_queues: str = ""
    # The channel variable (manager.conf channelvars) holding the dialled number; empty: Exten.
    asterisk_dialled_variable: str = ""

    @field_validator("outbox_lease_s")
    @classmethod
    def _positive_lease(cls, value: float) -> float:
        if not (value > 0 and math.isfinite(value)):
            raise ValueError(f"HOTLINE_OUTBOX_LEASE_S must be a number of seconds > 0, not {value}")
        return value

    @field_validator("public_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value and not value.startswith(("https://", "http://")):
            raise ValueError(f"HOTLINE_PUBLIC_URL must start with https:// or http://, not {value}")
        return value

    @field_validator("archive_retention_days")
    @classmethod
    def _at_least_one_day(cls, value: int) -> int:
        if value < 1:
            raise ValueError(
                f"HOTLINE_ARCHIVE_RETENTION_DAYS must be at least 1 (days to keep sent replies), "
                f"not {value}"
            )
        return value

    @field_validator("call_retention_days")
    @classmethod
    def _call_retention_at_least_one_day(cls, value: int) -> int:
        if value < 1:
            raise ValueError(
                f"HOTLINE_CALL_RETENTION_DAYS must be at least 1 (days to keep caller numbers "
                f"and notes), not {value}"
            )
        return value

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
    def cookies_secure(self) -> bool:
        """Whether cookies get the Secure flag (by default off only for plain-HTTP loopback)."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.host not in ("127.0.0.1", "localhost", "::1")

    def insecure_defaults(self) -> list[str]:
        """The secrets still at their published defaults (allowed only in demo mode)."""
        if self.demo_mode:
            return []
        defaults = {
            "HOTLINE_SECRET_KEY": (self.secret_key, DEFAULT_SECRET_KEY),
            "HOTLINE_CTI_TOKEN": (self.cti_token, DEFAULT_CTI_TOKEN),
        }
        return [name for name, (value, default) in defaults.items() if value == default]
