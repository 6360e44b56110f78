"""Time-based one-time passwords (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits), the codes any
authenticator app shows (Google Authenticator, Microsoft Authenticator, 腾讯身份验证器 …), for the
accounts' two-step login (rumourwatch.auth). No network: the app and the server share a secret and
the clock.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from datetime import datetime
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
WINDOW = 1  # steps either side of now accepted: a phone's clock a little off, a code typed as it turns
ISSUER = "健康谣言监测平台"


def new_secret() -> str:
    """A random 160-bit secret, base32 as authenticator apps take it."""
    return base64.b32encode(secrets.token_bytes(20)).decode("ascii")


def _key(secret: str) -> bytes:
    cleaned = secret.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def step(at: datetime) -> int:
    return int(at.timestamp()) // STEP_SECONDS


def code_at(secret: str, counter: int, digits: int = DIGITS) -> str:
    """The code of time step `counter` (RFC 4226's HOTP over the step)."""
    mac = hmac.new(_key(secret), struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def code(secret: str, at: datetime) -> str:
    return code_at(secret, step(at))


def matching_step(secret: str, typed: str, at: datetime, after: int | None = None) -> int | None:
    """The time step whose code `typed` is, within WINDOW of `at` and later than `after` (a code
    used once cannot log in again); None when it matches none."""
    typed = "".join(ch for ch in (typed or "") if not ch.isspace())
    if len(typed) != DIGITS or not typed.isdigit():
        return None
    now = step(at)
    for counter in range(now - WINDOW, now + WINDOW + 1):
        if after is not None and counter <= after:
            continue
        if hmac.compare_digest(code_at(secret, counter), typed):
            return counter
    return None


def provisioning_uri(secret: str, username: str) -> str:
    """The otpauth:// address an authenticator app reads from a QR code."""
    label = quote(f"{ISSUER}:{username}")
    return f"otpauth://totp/{label}?" + urlencode({"secret": secret, "issuer": ISSUER, "algorithm": "SHA1",
                                                  "digits": DIGITS, "period": STEP_SECONDS}, quote_via=quote)
