"""Settings, each declared once as (name, default, help); overridden by RUMOURWATCH_<NAME> env vars.

Bad values are rejected with a message that names the setting.
"""

from __future__ import annotations

import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from .errors import ConfigError, DataBundleError

REPO_ROOT = Path(__file__).resolve().parent.parent
ROLE_NAMES = ("monitor", "expert", "analyst", "leader", "correspondent", "admin")  # rumourwatch.auth.ROLES


def role_list(text: str) -> list[str]:
    """The roles a comma-separated setting names (two_step_roles), as typed: checked at load."""
    return [r.strip() for r in text.split(",") if r.strip()]


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    help: str

    @property
    def env_var(self) -> str:
        return "RUMOURWATCH_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", str(REPO_ROOT.parent / "shared" / "data"),
            "Directory of the public data bundle (read-only)."),
    Setting("db_path", str(REPO_ROOT / "data" / "rumourwatch.db"),
            "SQLite database file used by the worker and the dashboard."),
    Setting("models_dir", str(REPO_ROOT / "models" / "artifacts"),
            "Directory holding trained model artifacts; only artifacts found here are loaded."),
    Setting("cards_dir", str(REPO_ROOT / "models" / "cards"),
            "Directory of the model cards and time-ordered evaluation results (rumourwatch evaluate "
            "--out), shown to analysts on the 模型与评估 page."),
    Setting("rumour_threshold", 0.5,
            "Rumour probability at or above which the dashboard and reports count an item as 疑似谣言 "
            "(score-file's is_rumour uses the threshold recorded in the model manifest)."),
    Setting("poll_seconds", 5.0, "Seconds the live worker waits between polls of its sources."),
    Setting("source_quiet_hours", 6.0,
            "Hours without a new item from a source (or without the worker reading it) after which the "
            "live page and 数据源与质量 warn that it may have stopped."),
    Setting("replay_speed", 60.0,
            "Replay speed-up: 60 plays one hour of the bundle's time in one minute."),
    Setting("cluster_threshold", 0.8,
            "Jaccard similarity of text shingles above which two items join one cluster."),
    Setting("max_text_chars", 20000,
            "Models read at most this many characters of a text; the store keeps the whole text."),
    Setting("dashboard_refresh_seconds", 5, "How often the live dashboard refreshes itself."),
    Setting("session_idle_minutes", 30.0,
            "A dashboard login ends after this many minutes without activity."),
    Setting("max_login_failures", 5,
            "Wrong passwords in a row after which an account is locked for lockout_minutes."),
    Setting("lockout_minutes", 15.0, "How long an account stays locked after too many wrong passwords."),
    Setting("two_step_roles", "",
            "Roles that must log in with two-step login, comma-separated (e.g. `admin` or `admin,leader`): an "
            "account of such a role without it set up sees only 我的账号 after its password, until it sets "
            "it up. Empty: two-step login is each user's choice."),
    Setting("max_upload_mb", 10.0,
            "Largest CSV file (in MB) an import accepts: tips, the expert roster, units; dashboard or CLI."),
    Setting("audit_key_file", "",
            "A file holding the audit log's key (hex, made by `rumourwatch audit-key FILE`), kept outside the "
            "database and its backups and readable by the service user only: every entry is then sealed "
            "with it, so an entry changed, removed or slipped in by whoever holds the database file shows "
            "in `rumourwatch audit --verify` and 系统自检. Every process that writes (dashboard, worker, "
            "cron) needs it. Empty: entries are not sealed."),
    Setting("retention_days", 0,
            "Days after which `rumourwatch retention --apply` removes personal data no longer needed: "
            "the account ids of the people who reposted or commented, rejected records' raw content, "
            "ended login sessions. 0 keeps everything; otherwise at least 30."),
    Setting("alert_rules", str(REPO_ROOT / "config" / "alert_rules.toml"),
            "TOML file of alert rules, notification channels and clocks (edited on the 预警规则 page)."),
    Setting("sources_file", str(REPO_ROOT / "config" / "sources.toml"),
            "TOML file of the worker's sources (feeds, APIs, drop folders, files), edited by administrators "
            "on 数据源与质量; `rumourwatch watch` reads it beside its --source options and again when it changes."),
)

_BY_NAME = {s.name: s for s in SETTINGS}
MIN_RETENTION_DAYS = 30  # the shortest retention_days: reports compare a month with the month before


def _coerce(setting: Setting, raw: object) -> object:
    kind = type(setting.default)
    try:
        if kind is bool:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in {"1", "true", "yes", "on"}:
                return True
            if text in {"0", "false", "no", "off"}:
                return False
            raise ValueError(text)
        return kind(raw)
    except (TypeError, ValueError):
        raise ConfigError(
            f"setting {setting.name} ({setting.env_var}) must be a {kind.__name__}, got {raw!r}",
            "setting_type", name=setting.name, env_var=setting.env_var, kind=kind.__name__, value=raw,
        ) from None


@dataclass(frozen=True)
class Settings:
    values: dict = field(default_factory=dict)

    def __getattr__(self, name: str):
        try:
            return self.values[name]
        except KeyError:
            raise AttributeError(name) from None

    def replace(self, **changes) -> "Settings":
        merged = dict(self.values)
        for name, value in changes.items():
            if name not in _BY_NAME:
                raise ConfigError(f"unknown setting {name!r}", "setting_unknown", name=name)
            merged[name] = _coerce(_BY_NAME[name], value)
        return Settings(merged)


def load_settings(env: dict | None = None, **overrides) -> Settings:
    """Defaults, then RUMOURWATCH_* environment variables, then explicit overrides."""
    env = os.environ if env is None else env
    values = {}
    for s in SETTINGS:
        raw = env.get(s.env_var, s.default)
        values[s.name] = _coerce(s, raw)
    settings = Settings(values).replace(**overrides)
    if settings.rumour_threshold < 0 or settings.rumour_threshold > 1:
        raise ConfigError("setting rumour_threshold must be between 0 and 1", "setting_threshold",
                          value=settings.rumour_threshold)
    if settings.source_quiet_hours <= 0:
        raise ConfigError("setting source_quiet_hours must be greater than 0", "setting_source_quiet_hours",
                          value=settings.source_quiet_hours)
    if settings.max_upload_mb <= 0:
        raise ConfigError("setting max_upload_mb must be greater than 0", "setting_max_upload_mb",
                          value=settings.max_upload_mb)
    unknown_roles = [r for r in role_list(settings.two_step_roles) if r not in ROLE_NAMES]
    if unknown_roles:
        raise ConfigError(f"setting two_step_roles names unknown role(s) {', '.join(unknown_roles)}; roles are "
                          f"{', '.join(ROLE_NAMES)}", "setting_two_step_roles", value=settings.two_step_roles,
                          choices=", ".join(ROLE_NAMES))
    if settings.retention_days != 0 and settings.retention_days < MIN_RETENTION_DAYS:
        raise ConfigError(f"setting retention_days must be 0 (keep everything) or at least {MIN_RETENTION_DAYS}",
                          "setting_retention_days", value=settings.retention_days, min=MIN_RETENTION_DAYS)
    if settings.replay_speed <= 0:
        raise ConfigError("setting replay_speed must be greater than 0", "setting_replay_speed",
                          value=settings.replay_speed)
    return settings


class BundleLines:
    """The text lines of a gzipped bundle file, for `with BundleLines(path) as lines: for line in
    lines`. A file that ends early or is damaged (an interrupted copy) raises DataBundleError naming
    it and the line it broke after, instead of gzip's EOFError (which a command line shows as
    "Aborted!")."""

    def __init__(self, path: str | Path, binary: bool = False):
        self.path, self.line_no, self._fh, self.binary = Path(path), 0, None, binary

    def __enter__(self) -> Self:
        import gzip

        # closed by __exit__; `binary`: lines as bytes (json.loads reads them as they are)
        self._fh = gzip.open(self.path, "rb") if self.binary else gzip.open(self.path, "rt", encoding="utf-8")
        return self

    def __exit__(self, *exc) -> None:
        self._fh.close()

    def __iter__(self) -> Self:
        return self

    def __next__(self) -> str | bytes:  # per line of a 110 k-line file: no imports in here
        try:
            line = next(self._fh)
        except (EOFError, OSError, zlib.error, UnicodeDecodeError) as exc:
            raise DataBundleError(f"data bundle file {self.path} is truncated or damaged after line "
                                  f"{self.line_no} ({exc}); copy it again from the bundle's source") from None
        self.line_no += 1
        return line


def data_file(settings: Settings, relative: str) -> Path:
    """Path of a file inside the data bundle, with a clear error when it is absent."""
    root = Path(settings.data_dir)
    if not root.is_dir():
        raise DataBundleError(
            f"data bundle directory {root} does not exist; set RUMOURWATCH_DATA_DIR to the bundle"
        )
    path = root / relative
    if not path.exists():
        raise DataBundleError(f"data bundle file {path} is missing")
    return path
