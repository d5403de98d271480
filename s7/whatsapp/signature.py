"""`X-Hub-Signature-256`: HMAC-SHA256 of the raw request body keyed with the App Secret.

Always over the exact bytes Meta sent: Meta escapes non-ASCII (`\\u00e9`), may escape `/` as
`\\/`, and any parse-and-reserialise changes those bytes and breaks the check. Comparison is
constant-time on bytes, so a forged non-ASCII header is just "wrong", never a crash
(`hmac.compare_digest` raises on non-ASCII `str`).
"""

from __future__ import annotations

import hashlib
import hmac
from enum import Enum

PREFIX = b"sha256="


class Verdict(Enum):
    VALID = "valid"
    MISSING = "missing"  # no header at all → 401 in `required` mode
    INVALID = "invalid"  # header present but wrong → 403 in `required` mode


def sign(secret: str, body: bytes) -> str:
    """The header value Meta would send for `body` (used by tests, the bench and the simulator)."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def check(secret: str, body: bytes, header: bytes | str | None) -> Verdict:
    """Verify `header` (raw bytes as received, or str) against `body`."""
    if header is None:
        return Verdict.MISSING
    raw = header if isinstance(header, bytes) else header.encode("utf-8", "surrogateescape")
    raw = raw.strip()
    if not raw:
        return Verdict.MISSING
    if raw[: len(PREFIX)].lower() != PREFIX:
        return Verdict.INVALID
    expected = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest().encode("ascii")
    # Hex is case-insensitive; bytes.lower() only touches ASCII letters, so non-ASCII stays wrong.
    given = raw[len(PREFIX) :].lower()
    return Verdict.VALID if hmac.compare_digest(expected, given) else Verdict.INVALID
