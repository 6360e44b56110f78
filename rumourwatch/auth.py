"""Users, roles, passwords and sessions. No UI here: the dashboard (dashboard/auth.py) and the CLI
(rumourwatch/commands/admin.py) both call these functions, so a rule is enforced in one place.

Passwords are hashed with scrypt (standard library, memory-hard); only the hash is stored. A session
is a random token held by the browser session; the store keeps its sha256, so a copy of the database
does not let anyone log in. Sessions end after `session_idle_minutes` without activity. After
`max_login_failures` wrong passwords in a row an account is locked for `lockout_minutes`.
Every change to users, every login, failed login and logout goes to the audit log.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from . import store, totp
from .config import ROLE_NAMES, role_list
from .errors import RumourwatchError
from .records import iso, parse_time

ROLES = ROLE_NAMES  # the order pages list them in

# What each role may do. Pages and commands ask `can(role, permission)`; admin may do everything.
PERMISSIONS: dict[str, frozenset[str]] = {
    "monitor": frozenset({
        "monitor.view", "item.view", "alerts.view", "alerts.manage", "assignments.manage",
        "verdicts.manage", "sources.view", "tips.record", "watch.manage", "readings.record",
        "submissions.review",
    }),
    "expert": frozenset({
        "assignments.own", "workbench.use", "item.view_assigned",
    }),
    "analyst": frozenset({
        "monitor.view", "item.view", "alerts.view", "models.view", "models.train", "evaluation.view",
        "labels.manage", "sources.view", "readings.record",
    }),
    "leader": frozenset({
        "reports.view", "overview.view", "alerts.view",
    }),
    # 通讯员: a unit's correspondent, who reports the unit's information (seed 002) and nothing else
    "correspondent": frozenset({"submissions.own"}),
    "admin": frozenset({"*"}),
}
ALL_PERMISSIONS = frozenset(set().union(*(p for r, p in PERMISSIONS.items() if r != "admin")) | {
    "users.manage", "sources.manage", "rules.manage", "roster.manage", "audit.view", "backup.manage",
})

# Which roles see each dashboard page (by its url_path). A page not listed here is shown to admin only,
# so a new page is never exposed by accident; add it here when it is registered in the navigation.
PAGE_ROLES: dict[str, frozenset[str]] = {
    "live": frozenset({"monitor", "analyst", "admin"}),
    "item": frozenset({"monitor", "analyst", "expert", "admin"}),
    # Keyword search: what is being said about a claim; leaders read the counts and the opinion line.
    "search": frozenset({"monitor", "analyst", "expert", "leader", "admin"}),
    # 辟谣知识库: has a claim been debunked already (a hotline call, a tip, a task), and what was published here
    "knowledge": frozenset({"monitor", "analyst", "expert", "leader", "admin"}),
    "sources": frozenset({"monitor", "analyst", "admin"}),
    "tips": frozenset({"monitor", "admin"}),
    # 民族文字判读: items in a script the models cannot read, read by whoever reads it (DOMAIN 11)
    "readings": frozenset({"monitor", "analyst", "admin"}),
    # 值班交接: the monitors' shifts (rumourwatch.handover)
    "handover": frozenset({"monitor", "admin"}),
    # Leaders see alerts and the watchlist read-only (deadlines met?); acting needs alerts.manage.
    "alerts": frozenset({"monitor", "leader", "admin"}),
    "watchlist": frozenset({"monitor", "leader", "admin"}),
    # Risk points (seed 001): sorted out by monitors, read by leaders.
    "risks": frozenset({"monitor", "leader", "admin"}),
    # 政务新媒体: the office's own channels (rumourwatch.ownmedia), registered by monitors, read by leaders
    "ownmedia": frozenset({"monitor", "leader", "admin"}),
    "assignments": frozenset({"monitor", "admin"}),
    "verdicts": frozenset({"monitor", "admin"}),
    # 媒体约请: media outlets' requests for pool experts (seed 000 §(三)2), handled by the office
    "media": frozenset({"monitor", "admin"}),
    # 信息报送: the units' correspondents submit, the office (monitors) adopts or declines (seed 002)
    "submissions": frozenset({"correspondent", "monitor", "admin"}),
    "workbench": frozenset({"expert", "admin"}),
    "my-assignments": frozenset({"expert", "admin"}),
    "models": frozenset({"analyst", "admin"}),
    "evaluation": frozenset({"analyst", "admin"}),
    "labels": frozenset({"analyst", "admin"}),
    "reports": frozenset({"leader", "analyst", "monitor", "admin"}),
    "overview": frozenset({"leader", "admin"}),
    "experts": frozenset({"admin"}),
    "roster": frozenset({"admin"}),
    "rules": frozenset({"admin"}),
    "users": frozenset({"admin"}),
    "audit": frozenset({"admin"}),
    "selfcheck": frozenset({"admin"}),
    # 我的账号: one's own password and two-step login
    "account": frozenset(ROLES),
}
# Each role's main page: the dashboard serves it at "/" (its first page after login).
HOME_PAGES: dict[str, str] = {"monitor": "live", "analyst": "live", "admin": "live", "expert": "workbench",
                              "leader": "overview", "correspondent": "submissions"}

USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,32}$")
MIN_PASSWORD_LENGTH = 8
MAX_PASSWORD_LENGTH = 1024  # scrypt cost grows with input; refuse absurd inputs early

# scrypt cost: n=2**14, r=8 needs 16 MiB and ~0.1 s per hash, which makes guessing expensive.
SCRYPT_N, SCRYPT_R, SCRYPT_P, SALT_BYTES, KEY_BYTES = 2 ** 14, 8, 1, 16, 32


class AuthError(RumourwatchError):
    """A login failed or an action is not allowed for this user (`reason` is a stable code). As for a
    WorkflowError, `str()` is English (CLI, logs) and the dashboard shows strings.py `wferr.<key>`
    formatted with `params` (`key` is the reason unless a finer one is given; `until` is a param too);
    tests/test_workflow_errors.py checks each raise site."""

    def __init__(self, message: str, reason: str = "denied", until: str | None = None, key: str | None = None,
                 **params):
        super().__init__(message)
        self.reason = reason
        self.until = until
        self.key = key or reason
        self.params = {**params, "until": until} if until else params


# --- roles and permissions -----------------------------------------------------------------

def check_role(role: str) -> str:
    if role not in ROLES:
        raise AuthError(f"unknown role {role!r}; choose one of: {', '.join(ROLES)}", reason="bad_role",
                        value=role)
    return role


def can(role: str | None, permission: str) -> bool:
    """True when `role` may do `permission` (admin may do everything)."""
    granted = PERMISSIONS.get(role or "", frozenset())
    return "*" in granted or permission in granted


def page_allowed(role: str | None, url_path: str) -> bool:
    """True when `role` sees the dashboard page `url_path` (unknown pages: admin only)."""
    if role == "admin":
        return True
    return role in PAGE_ROLES.get(url_path, frozenset())


def home_page(role: str | None) -> str | None:
    """The url_path of `role`'s main page (None for an unknown role)."""
    return HOME_PAGES.get(role or "")


def require(user: dict | None, permission: str) -> dict:
    """The user, or AuthError when they may not do `permission`."""
    if not user:
        raise AuthError("not logged in", reason="login_required")
    if not can(user.get("role"), permission):
        raise AuthError(f"user {user.get('username')!r} (role {user.get('role')}) may not do {permission}",
                        reason="forbidden", role=user.get("role"))
    return user


# --- passwords -----------------------------------------------------------------------------

def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def hash_password(password: str, username: str | None = None) -> str:
    """A salted scrypt hash as `scrypt$n$r$p$salt$hash` (the parameters travel with the hash), of a
    password the policy accepts for `username`."""
    check_password_policy(password, username)
    salt = secrets.token_bytes(SALT_BYTES)
    key = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P,
                         dklen=KEY_BYTES, maxmem=64 * 1024 * 1024)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${_b64(salt)}${_b64(key)}"


def verify_password(password: str, stored: str) -> bool:
    """True when `password` matches the stored hash (constant-time comparison)."""
    try:
        scheme, n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        if len(password) > MAX_PASSWORD_LENGTH:
            return False
        got = hashlib.scrypt(password.encode("utf-8"), salt=base64.b64decode(salt), n=int(n), r=int(r),
                             p=int(p), dklen=len(expected), maxmem=64 * 1024 * 1024)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


_DUMMY_HASH: str | None = None


def _burn_time(password: str) -> None:
    # An unknown username costs as much as a wrong password, so timing does not reveal which names exist.
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password("not a real password")
    verify_password(password, _DUMMY_HASH)


# Passwords people pick first, which every guessing list tries first (leaked-password rankings, the
# Chinese ones among them); those of 8 characters or more, lower-cased.
COMMON_PASSWORDS = frozenset([
    "password", "password1", "password123", "passw0rd", "p@ssw0rd", "p@ssword", "iloveyou", "iloveyou1", "sunshine",
    "princess", "football", "baseball", "welcome", "welcome1", "admin123", "admin1234", "administrator", "root1234",
    "superman", "trustno1", "whatever", "computer", "monkey123", "dragon123", "letmein1", "changeme", "woaini1314",
    "woaiwojia", "woaini520", "a123456789", "abc123456", "abcd1234", "aa123456", "qq123456", "q1w2e3r4", "1q2w3e4r",
    "1qaz2wsx", "zaq12wsx", "qazwsxedc", "asdf1234", "zxcvbnm123", "asd123456", "wang1234", "zhang123", "li123456",
    "123456abc", "123456aa", "5201314a", "1314520a", "147258369", "159357456", "321654987", "789456123", "147852369",
    "123qweasd", "qweasdzxc", "1234qwer", "qwer1234", "asdfghjkl", "zxcvbnm1", "rumourwatch",
])
_RUNS = ("01234567890123456789", "98765432109876543210", "abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba",
         "qwertyuiopasdfghjklzxcvbnm", "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik9ol0p", "1q2w3e4r5t6y7u8i9o0p")


def _guessable(password: str) -> bool:
    """A password guessing lists try early: a common one, at most two characters repeated
    (11111111, abababab), or a run of the digits, the alphabet or a keyboard row (12345678)."""
    low = password.lower()
    return low in COMMON_PASSWORDS or len(set(low)) <= 2 or any(low in run for run in _RUNS)


def check_password_policy(password: str, username: str | None = None) -> None:
    """AuthError (reason weak_password, a `key` the dashboard words in Chinese) for a password too
    short or long, padded with spaces, easily guessed (`_guessable`), or the login name with only
    digits or symbols around it (mon123, Admin@2024)."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise AuthError(f"password must have at least {MIN_PASSWORD_LENGTH} characters", reason="weak_password",
                        key="password_short", min=MIN_PASSWORD_LENGTH)
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AuthError(f"password must have at most {MAX_PASSWORD_LENGTH} characters", reason="weak_password",
                        key="password_long", max=MAX_PASSWORD_LENGTH)
    if password.strip() != password or not password.strip():
        raise AuthError("password must not start or end with spaces", reason="weak_password",
                        key="password_spaces")
    if _guessable(password):
        raise AuthError("password is too common or too regular (like 12345678, password or qwertyui): choose another",
                        reason="weak_password", key="password_common")
    if username and len(username) >= 2:
        rest = re.sub(re.escape(username), "", password, flags=re.IGNORECASE)
        if rest != password and not re.search(r"[^\W\d_]", rest):
            raise AuthError("password must not be the username with digits or symbols around it: choose another",
                            reason="weak_password", key="password_username")


def check_username(username: str) -> str:
    if not isinstance(username, str) or not USERNAME_RE.match(username):
        raise AuthError(f"username {username!r} is not valid: use 2-32 letters, digits, '_', '.' or '-'",
                        reason="bad_username", value=username)
    return username


# --- user management (each change audited, in its own transaction) --------------------------------

def _now(now: datetime | None) -> datetime:
    return now or store.now_utc()


def check_unit(db, role: str, unit_id: int | None) -> int | None:
    """A correspondent reports for one active registered unit; no other role has a unit."""
    if role != "correspondent":
        return None
    unit = store.get_unit(db, unit_id) if unit_id is not None else None
    if unit is None or not unit["active"]:
        raise AuthError(f"a correspondent needs the active registered unit they report for (got {unit_id!r}); "
                        f"see the units imported with `rumourwatch report import-units`", reason="correspondent_unit")
    return unit["id"]


def create_user(db, username: str, password: str, role: str, actor: str, *, display_name: str | None = None,
                expert_id: int | None = None, unit_id: int | None = None, now: datetime | None = None) -> dict:
    """Add a user; AuthError for a bad name/role/password, a correspondent without an active unit or a
    name already taken (StoreError if another process takes it meanwhile)."""
    check_username(username)
    check_role(role)
    unit_id = check_unit(db, role, unit_id)
    if store.get_user(db, username) is not None:
        raise AuthError(f"user {username!r} already exists", reason="user_exists", name=username)
    password_hash = hash_password(password, username)
    at = iso(_now(now))
    with store.transaction(db):
        user_id = store.insert_user(db, username, role, password_hash, at, display_name, expert_id, unit_id)
        store.record_audit(db, actor, "user.add", "user", username,
                           {"role": role, "expert_id": expert_id, **({"unit_id": unit_id} if unit_id else {})},
                           at=at)
    return store.get_user_by_id(db, user_id)


def _existing(db, username: str, with_hash: bool = False) -> dict:
    user = store.get_user(db, username, with_hash)
    if user is None:
        raise AuthError(f"no user named {username!r}; see `rumourwatch users list`", reason="no_user", name=username)
    return user


def _guard_last_admin(db, user: dict, new_role: str | None = None, disabling: bool = False) -> None:
    # Never leave the system without an active admin: nobody could manage users any more.
    if user["role"] != "admin" or user["disabled"]:
        return
    if (disabling or (new_role and new_role != "admin")) and store.count_users(db, "admin", active_only=True) <= 1:
        raise AuthError(f"{user['username']!r} is the last active admin; add another admin first",
                        reason="last_admin", name=user["username"])


def set_disabled(db, username: str, disabled: bool, actor: str, now: datetime | None = None) -> dict:
    """Disable (ending their sessions) or re-enable a user."""
    user = _existing(db, username)
    if disabled:
        _guard_last_admin(db, user, disabling=True)
    at = iso(_now(now))
    with store.transaction(db):
        fields = {"disabled": 1 if disabled else 0}
        if not disabled:
            fields.update(failed_logins=0, locked_until=None)
        store.update_user(db, user["id"], at, **fields)
        if disabled:
            store.end_user_sessions(db, user["id"], at, "disabled")
        store.record_audit(db, actor, "user.disable" if disabled else "user.enable", "user", user["username"], at=at)
    return store.get_user_by_id(db, user["id"])


def set_role(db, username: str, role: str, actor: str, expert_id: int | None = None,
             now: datetime | None = None, unit_id: int | None = None) -> dict:
    user = _existing(db, username)
    check_role(role)
    unit_id = check_unit(db, role, unit_id)
    _guard_last_admin(db, user, new_role=role)
    at = iso(_now(now))
    with store.transaction(db):
        store.update_user(db, user["id"], at, role=role, expert_id=expert_id, unit_id=unit_id)
        # A role change takes effect at once: open sessions would otherwise keep the old rights.
        store.end_user_sessions(db, user["id"], at, "role_changed")
        store.record_audit(db, actor, "user.role", "user", user["username"],
                           {"from": user["role"], "to": role, "expert_id": expert_id,
                            **({"unit_id": unit_id} if unit_id else {})}, at=at)
    return store.get_user_by_id(db, user["id"])


def set_password(db, username: str, password: str, actor: str, now: datetime | None = None) -> dict:
    user = _existing(db, username)
    password_hash = hash_password(password, user["username"])
    at = iso(_now(now))
    with store.transaction(db):
        store.update_user(db, user["id"], at, password_hash=password_hash, failed_logins=0, locked_until=None)
        store.end_user_sessions(db, user["id"], at, "password_changed")
        store.record_audit(db, actor, "user.password", "user", user["username"], at=at)
    return store.get_user_by_id(db, user["id"])


def unlock(db, username: str, actor: str, now: datetime | None = None) -> dict:
    user = _existing(db, username)
    at = iso(_now(now))
    with store.transaction(db):
        store.update_user(db, user["id"], at, failed_logins=0, locked_until=None)
        store.record_audit(db, actor, "user.unlock", "user", user["username"], at=at)
    return store.get_user_by_id(db, user["id"])


def list_users(db) -> list[dict]:
    return store.list_users(db)


# --- login and sessions --------------------------------------------------------------------

@dataclass(frozen=True)
class Policy:
    session_idle_minutes: float = 30.0
    max_login_failures: int = 5
    lockout_minutes: float = 15.0
    two_step_roles: frozenset = frozenset()  # roles that must use two-step login (setting two_step_roles)

    @classmethod
    def from_settings(cls, settings) -> "Policy":
        return cls(float(settings.session_idle_minutes), int(settings.max_login_failures),
                   float(settings.lockout_minutes),
                   frozenset(role_list(settings.two_step_roles)))


def two_step_missing(user: dict, policy: Policy) -> bool:
    """True when `user`'s role must use two-step login and they have not set it up: the dashboard
    then opens only 我的账号 for them."""
    return user["role"] in policy.two_step_roles and not user.get("two_step")


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def public_user(user: dict) -> dict:
    """The fields pages need: username, role, expert_id (plus display_name and id)."""
    return {"id": user["id"], "username": user["username"], "role": user["role"],
            "expert_id": user.get("expert_id"), "unit_id": user.get("unit_id"), "display_name": user.get("display_name"),
            "two_step": bool(user.get("totp_enabled_at"))}


def authenticate(db, username: str, password: str, policy: Policy = Policy(), now: datetime | None = None) -> dict:
    """The user when the password is right and the account usable; AuthError with a reason otherwise:
    `bad_credentials` (unknown name or wrong password, deliberately not told apart), `locked`, `disabled`."""
    now = _now(now)
    at = iso(now)
    user = store.get_user(db, username or "", with_hash=True) if username else None
    if user is None:
        _burn_time(password or "")
        with store.transaction(db):
            store.record_audit(db, str(username or "")[:64], "login.failed", "user", str(username or "")[:64],
                               {"reason": "unknown_user"}, at=at)
        raise AuthError("wrong username or password", reason="bad_credentials")
    if user["locked_until"] and parse_time(user["locked_until"]) > now:
        with store.transaction(db):
            store.record_audit(db, user["username"], "login.failed", "user", user["username"],
                               {"reason": "locked"}, at=at)
        raise AuthError(f"account locked until {user['locked_until']} after too many wrong passwords",
                        reason="locked", until=user["locked_until"])
    if not verify_password(password or "", user["password_hash"]):
        _count_failure(db, user, policy, now, "wrong_password")
        raise AuthError("wrong username or password", reason="bad_credentials")
    if user["disabled"]:
        with store.transaction(db):
            store.record_audit(db, user["username"], "login.failed", "user", user["username"],
                               {"reason": "disabled"}, at=at)
        raise AuthError("this account is disabled; ask an administrator", reason="disabled")
    return user


def login(db, username: str, password: str, policy: Policy = Policy(),
          now: datetime | None = None, code: str | None = None) -> tuple[str, dict]:
    """Check the password — and, for an account with two-step login, the code its authenticator app
    shows — and open a session: (token, user). The token goes to the browser session only.

    Two-step accounts: without a code, AuthError `code_required` (the password was right: the form
    asks for the code); a wrong code, or one already used, counts as a wrong password towards the
    lockout (`wrong_code`). One of the account's recovery codes stands in for the app's code, once."""
    user = authenticate(db, username, password, policy, now)
    now = _now(now)
    at = iso(now)
    step, changes, details = None, {}, None
    if user["totp_enabled_at"]:
        if not (code or "").strip():
            raise AuthError("this account also needs the code its authenticator app shows", reason="code_required")
        step = totp.matching_step(user["totp_secret"], code, now, after=user["totp_last_step"])
        recovery = _use_recovery_code(user, code, at) if step is None else None
        if step is None and recovery is None:  # a wrong or used code weighs as a wrong password
            _count_failure(db, user, policy, now, "wrong_code")
            raise AuthError("the code is wrong or was already used; type the one the app shows now",
                            reason="wrong_code")
        if step is not None:
            changes, details = {"totp_last_step": step}, {"two_step": True}
        else:
            changes = {"totp_recovery": json.dumps(recovery)}
            details = {"two_step": True, "recovery_code": True,
                       "recovery_codes_left": user["recovery_codes_left"] - 1}  # the store's count, less this one
    token = secrets.token_urlsafe(32)
    with store.transaction(db):
        store.update_user(db, user["id"], at, failed_logins=0, locked_until=None, last_login_at=at, **changes)
        store.insert_session(db, _token_hash(token), user["id"], at)
        store.record_audit(db, user["username"], "login", "user", user["username"], details, at=at)
    return token, public_user(user)


# --- two-step login's recovery codes -----------------------------------------------------------
# Ten one-time codes shown once when two-step login is switched on (and when new ones are made):
# printed or kept in a safe place, each logs in once instead of the app's code when the phone is
# lost and no administrator is at hand to reset it. Only keyed hashes are stored; the codes are
# random (50 bits each), so a plain keyed hash is enough where a password needs scrypt.
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper and typed


def _recovery_hash(username: str, code: str) -> str:
    typed = "".join(ch for ch in code.lower() if ch.isalnum())
    return hmac.new(username.encode("utf-8"), typed.encode("ascii", "ignore"), hashlib.sha256).hexdigest()


def _use_recovery_code(user: dict, code: str, at: str) -> list[dict] | None:
    """The account's recovery codes with `code` marked used at `at`, or None when `code` is none of
    its unused ones."""
    codes = json.loads(user.get("totp_recovery") or "[]")
    typed = _recovery_hash(user["username"], code)
    for entry in codes:
        if entry["used_at"] is None and hmac.compare_digest(entry["hash"], typed):
            entry["used_at"] = at
            return codes
    return None


def new_recovery_codes(db, username: str, password: str, policy: Policy = Policy(),
                       now: datetime | None = None) -> list[str]:
    """Make the account's recovery codes anew (the earlier ones stop working), the password asked
    for again: whoever found a logged-in browser cannot make themselves a way in. Returns the
    codes, to be shown once; they are never stored."""
    user = authenticate(db, username, password, policy, now)
    if not user["totp_enabled_at"]:
        raise AuthError(f"{user['username']} does not use two-step login", reason="two_step_off",
                        name=user["username"])
    with store.transaction(db):
        return _store_recovery_codes(db, user, iso(_now(now)))


def _store_recovery_codes(db, user: dict, at: str) -> list[str]:
    """New recovery codes for `user`, their hashes stored (inside the caller's transaction), audited."""
    codes = ["".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10)) for _ in range(RECOVERY_CODES)]
    codes = [f"{c[:5]}-{c[5:]}" for c in codes]
    store.update_user(db, user["id"], at, totp_recovery=json.dumps(
        [{"hash": _recovery_hash(user["username"], c), "used_at": None} for c in codes]))
    store.record_audit(db, user["username"], "user.recovery_codes", "user", user["username"],
                       {"codes": len(codes)}, at=at)
    return codes


def _count_failure(db, user: dict, policy: Policy, now: datetime, reason: str) -> None:
    """A wrong password or code (`reason`): counted and audited; at the policy's limit the account is
    locked (AuthError `locked`)."""
    at = iso(now)
    failures = (user["failed_logins"] or 0) + 1
    locked_until = iso(now + timedelta(minutes=policy.lockout_minutes)) if failures >= policy.max_login_failures \
        else None
    with store.transaction(db):
        store.update_user(db, user["id"], at, failed_logins=0 if locked_until else failures, locked_until=locked_until)
        store.record_audit(db, user["username"], "login.failed", "user", user["username"],
                           {"reason": reason, "failures": failures}, at=at)
        if locked_until:
            store.record_audit(db, "system", "user.locked", "user", user["username"],
                               {"until": locked_until, "failures": failures}, at=at)
    if locked_until:
        raise AuthError(f"account locked until {locked_until} after {failures} wrong passwords or codes",
                        reason="locked", until=locked_until)


# --- one's own account: password and two-step login -------------------------------------------

def change_own_password(db, username: str, current: str, new: str, policy: Policy = Policy(),
                        now: datetime | None = None, token: str | None = None) -> dict:
    """A user changes their own password, giving the current one (a wrong one counts towards the
    lockout, as at the login); the password rules apply. Their other logins end (a browser left
    logged in elsewhere, or someone who had the old password, must log in with the new one); the
    session of `token`, where they changed it, stays open."""
    user = authenticate(db, username, current, policy, now)
    check_password_policy(new, user["username"])
    if verify_password(new, user["password_hash"]):
        raise AuthError("the new password is the same as the current one", reason="password_unchanged")
    at = iso(_now(now))
    with store.transaction(db):
        store.update_user(db, user["id"], at, password_hash=hash_password(new, user["username"]), failed_logins=0,
                          locked_until=None)
        ended = store.end_user_sessions(db, user["id"], at, "own_password",
                                        keep=_token_hash(token) if token else None)
        store.record_audit(db, user["username"], "user.password", "user", user["username"],
                           {"own": True, "sessions_ended": ended}, at=at)
    return store.get_user_by_id(db, user["id"])


def begin_two_step(db, username: str, now: datetime | None = None) -> str:
    """A new secret for the user's authenticator app, kept aside until a code from the app confirms
    it (`confirm_two_step`); a login keeps asking for the old one, if any, until then."""
    user = _existing(db, username)
    secret = totp.new_secret()
    with store.transaction(db):
        store.update_user(db, user["id"], iso(_now(now)), totp_pending=secret)
    return secret


def confirm_two_step(db, username: str, code: str, now: datetime | None = None) -> dict:
    """Switch two-step login on with the secret being set up, once `code` shows the app has it.
    Returns the user, with the account's first recovery codes under "recovery_codes" (shown once)."""
    now = _now(now)
    user = store.get_user(db, username, with_hash=True) if username else None
    if user is None or not user["totp_pending"]:
        raise AuthError("no authenticator app is being set up for this account; start again",
                        reason="two_step_not_started")
    step = totp.matching_step(user["totp_pending"], code, now)
    if step is None:
        raise AuthError("the code does not match: check the phone's clock and type the code the app shows now",
                        reason="two_step_bad_code")
    at = iso(now)
    with store.transaction(db):
        store.update_user(db, user["id"], at, totp_secret=user["totp_pending"], totp_pending=None,
                          totp_enabled_at=at, totp_last_step=step)
        store.record_audit(db, user["username"], "user.two_step_on", "user", user["username"], at=at)
        codes = _store_recovery_codes(db, user, at)
    return {**store.get_user_by_id(db, user["id"]), "recovery_codes": codes}


def disable_two_step(db, username: str, actor: str, code: str | None = None, now: datetime | None = None) -> dict:
    """Switch two-step login off: by the user with a current code, or by an administrator (`actor`
    another account, no code: a lost phone) — then the account's sessions end, so its next login
    is by password, and the user sets up a new app."""
    now = _now(now)
    user = _existing(db, username, with_hash=True)
    if not user["totp_enabled_at"]:
        raise AuthError(f"{user['username']} does not use two-step login", reason="two_step_off", name=user["username"])
    own = actor == user["username"]
    if own and totp.matching_step(user["totp_secret"], code or "", now, after=user["totp_last_step"]) is None:
        raise AuthError("the code is wrong or was already used; type the one the app shows now", reason="wrong_code")
    at = iso(now)
    with store.transaction(db):
        store.update_user(db, user["id"], at, totp_secret=None, totp_enabled_at=None, totp_last_step=None,
                          totp_pending=None, totp_recovery=None)
        if not own:
            store.end_user_sessions(db, user["id"], at, "ended_by_admin")
        store.record_audit(db, actor, "user.two_step_off" if own else "user.two_step_reset", "user",
                           user["username"], at=at)
    return store.get_user_by_id(db, user["id"])


def start_session(db, username: str, now: datetime | None = None, actor: str = "system") -> str:
    """A session for `username` without a password (tests and trusted tooling only); returns the token."""
    user = _existing(db, username)
    token = secrets.token_urlsafe(32)
    at = iso(_now(now))
    with store.transaction(db):
        store.insert_session(db, _token_hash(token), user["id"], at)
        store.record_audit(db, actor, "session.start", "user", user["username"], at=at)
    return token


# Writing last_seen on every page rerun would make each click a write; once a minute is enough.
TOUCH_EVERY = timedelta(seconds=60)


def _session_problem(db, token_hash: str, policy: Policy, now: datetime):
    """(why the session is not live — "unknown", "ended", "disabled", "idle" — or None, the
    session row, its user): the rules session_user and session_active share."""
    session = store.get_session(db, token_hash)
    if session is None or session["ended_at"]:
        return ("unknown" if session is None else "ended"), session, None
    user = store.get_user_by_id(db, session["user_id"])
    if user is None or user["disabled"]:
        return "disabled", session, user
    if now - parse_time(session["last_seen_at"]) > timedelta(minutes=policy.session_idle_minutes):
        return "idle", session, user
    return None, session, user


def session_user(db, token: str | None, policy: Policy = Policy(), now: datetime | None = None) -> dict | None:
    """The logged-in user for `token`, or None when the token is unknown, ended, idle too long, or the
    user was disabled. An idle session is ended (and audited) here."""
    if not token:
        return None
    now = _now(now)
    token_hash = _token_hash(token)
    problem, session, user = _session_problem(db, token_hash, policy, now)
    at = iso(now)
    if problem == "disabled":
        with store.transaction(db):
            store.end_session(db, token_hash, at, "disabled")
    elif problem == "idle":
        with store.transaction(db):
            store.end_session(db, token_hash, at, "idle")
            store.record_audit(db, user["username"], "session.expired", "user", user["username"],
                               {"last_seen_at": session["last_seen_at"]}, at=at)
    if problem:
        return None
    if now - parse_time(session["last_seen_at"]) >= TOUCH_EVERY:
        store.touch_session(db, token_hash, at)
    return public_user(user)


def session_active(db, token: str | None, policy: Policy = Policy(), now: datetime | None = None) -> bool:
    """Whether session_user would accept `token` now, without touching the session (a page that
    refreshes itself on a timer is not the user at work) and without ending it."""
    return bool(token) and _session_problem(db, _token_hash(token), policy, _now(now))[0] is None


def session_end_reason(db, token: str | None) -> str | None:
    """Why the session of `token` ended ("idle", "logout", "disabled", …), None while it runs or
    when the token is unknown."""
    if not token:
        return None
    session = store.get_session(db, _token_hash(token))
    return session["end_reason"] if session and session["ended_at"] else None


def open_sessions(db, policy: Policy = Policy(), now: datetime | None = None) -> list[dict]:
    """Who is logged in now: the sessions not ended and active within the idle limit."""
    return store.open_sessions(db, iso(_now(now) - timedelta(minutes=policy.session_idle_minutes)))


def end_sessions(db, username: str, actor: str, now: datetime | None = None) -> int:
    """Log `username` out everywhere (强制下线: a session left open on a shared computer, a login
    the user does not recognise) without disabling the account; audited. Returns how many ended."""
    user = _existing(db, username)
    at = iso(_now(now))
    with store.transaction(db):
        ended = store.end_user_sessions(db, user["id"], at, "ended_by_admin")
        store.record_audit(db, actor, "session.end", "user", user["username"], {"sessions": ended}, at=at)
    return ended


def logout(db, token: str | None, now: datetime | None = None) -> None:
    if not token:
        return
    token_hash = _token_hash(token)
    session = store.get_session(db, token_hash)
    if session is None or session["ended_at"]:
        return
    user = store.get_user_by_id(db, session["user_id"])
    at = iso(_now(now))
    with store.transaction(db):
        store.end_session(db, token_hash, at, "logout")
        store.record_audit(db, user["username"] if user else "?", "logout", "user",
                           user["username"] if user else None, at=at)


# --- item visibility ------------------------------------------------------------------------

CLOSED_ASSIGNMENTS = ("declined", "cancelled")


def may_view_item(db, user: dict | None, item_id: int) -> bool:
    """Whether `user` may open item `item_id`: roles with item.view see every item; an expert sees
    only items of alerts assigned to them (the alert's item and its cluster copies), not declined
    or cancelled ones."""
    if not user:
        return False
    if can(user.get("role"), "item.view"):
        return True
    if not can(user.get("role"), "item.view_assigned") or user.get("expert_id") is None:
        return False
    item = store.get_item(db, item_id)
    if item is None:
        return False
    for a in store.expert_assignments(db, user["expert_id"]):
        if a["status"] in CLOSED_ASSIGNMENTS:
            continue
        if a["item_id"] == item_id or (a["cluster_id"] is not None and a["cluster_id"] == item["cluster_id"]):
            return True
    return False
