"""X-Hub-Signature-256 over the raw bytes: the cases that broke other projects (reference §4, §9.8)."""

from __future__ import annotations

import hashlib
import hmac
import json

from s7.whatsapp.signature import Verdict, check, sign

SECRET = "test-app-secret"


def test_a_body_signed_with_the_app_secret_is_valid() -> None:
    body = b'{"object":"whatsapp_business_account","entry":[]}'
    assert check(SECRET, body, sign(SECRET, body)) is Verdict.VALID


def test_the_header_is_lowercase_hex_of_hmac_sha256() -> None:
    body = b"{}"
    expected = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert sign(SECRET, body) == f"sha256={expected}"


def test_missing_or_empty_header_is_missing_and_a_wrong_one_invalid() -> None:
    body = b"{}"
    assert check(SECRET, body, None) is Verdict.MISSING
    assert check(SECRET, body, "  ") is Verdict.MISSING
    assert check(SECRET, body, sign("another-secret", body)) is Verdict.INVALID
    assert check(SECRET, body, sign(SECRET, body).removeprefix("sha256=")) is Verdict.INVALID
    assert check(SECRET, body, "sha1=" + "0" * 40) is Verdict.INVALID


def test_uppercase_hex_is_accepted() -> None:
    body = b"{}"
    header = "sha256=" + sign(SECRET, body).removeprefix("sha256=").upper()
    assert check(SECRET, body, header) is Verdict.VALID


def test_escaped_non_ascii_is_checked_on_the_bytes_meta_sent() -> None:
    # Meta sends "J'ai mangé des pâtes" as \u escapes; the HMAC covers those bytes.
    body = b'{"text":{"body":"J\'ai mang\\u00e9 des p\\u00e2tes \\ud83d\\ude2e"}}'
    header = sign(SECRET, body)
    assert check(SECRET, body, header) is Verdict.VALID
    # Decoding and re-serialising (what broke whatsapp-api-js #290) gives other bytes: invalid.
    reserialised = json.dumps(json.loads(body), ensure_ascii=False).encode()
    assert check(SECRET, reserialised, header) is Verdict.INVALID


def test_raw_utf8_bodies_are_verified_too() -> None:
    body = '{"text":{"body":"¿Tenés en 42? Pagué 😮"}}'.encode()
    assert check(SECRET, body, sign(SECRET, body)) is Verdict.VALID


def test_escaped_slashes_are_part_of_the_signed_bytes() -> None:
    body = b'{"text":{"body":"https:\\/\\/example.com\\/p\\/am90 @ 50%"}}'
    header = sign(SECRET, body)
    assert check(SECRET, body, header) is Verdict.VALID
    assert check(SECRET, json.dumps(json.loads(body)).encode(), header) is Verdict.INVALID


def test_a_non_ascii_header_is_wrong_not_a_crash() -> None:
    body = b"{}"
    assert check(SECRET, body, "sha256=ñandú😮".encode()) is Verdict.INVALID
    assert check(SECRET, body, "sha256=ñandú😮") is Verdict.INVALID
    assert check(SECRET, body, b"sha256=\xff\xfe") is Verdict.INVALID
