"""Webhook signature checks, one per vendor scheme; pure functions on bytes and headers.

Each returns ``None`` when the delivery is authentic and a short reason otherwise (the
reason is logged; the sender only sees 401). Comparisons are constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import urllib.parse
from collections.abc import Mapping
from typing import Any

JWT_LEEWAY_SECONDS = 60


def _hmac_hex(key: bytes, message: bytes, digest: str) -> str:
    return hmac.new(key, message, digest).hexdigest()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        for key, candidate in headers.items():
            if key.lower() == lowered:
                return candidate
    return value


def verify_github(secret: str, body: bytes, headers: Mapping[str, str]) -> str | None:
    """``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``."""
    signature = _header(headers, "X-Hub-Signature-256")
    if not signature:
        return "missing X-Hub-Signature-256"
    scheme, _, value = signature.partition("=")
    if scheme != "sha256" or not value:
        return "X-Hub-Signature-256 is not sha256=<hex>"
    expected = _hmac_hex(secret.encode(), body, "sha256")
    return None if hmac.compare_digest(expected, value.strip().lower()) else "signature mismatch"


def verify_asana(secret: str, body: bytes, headers: Mapping[str, str]) -> str | None:
    """``X-Hook-Signature: <hex HMAC-SHA256(hook secret from the handshake, body)>``."""
    signature = _header(headers, "X-Hook-Signature")
    if not signature:
        return "missing X-Hook-Signature"
    expected = _hmac_hex(secret.encode(), body, "sha256")
    return (
        None if hmac.compare_digest(expected, signature.strip().lower()) else "signature mismatch"
    )


def trello_signature(secret: str, body: bytes, callback_url: str) -> str:
    digest = hmac.new(secret.encode(), body + callback_url.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def verify_trello(
    secret: str, body: bytes, headers: Mapping[str, str], callback_url: str
) -> str | None:
    """``X-Trello-Webhook: base64(HMAC-SHA1(app secret, body + callback URL))``."""
    signature = _header(headers, "X-Trello-Webhook")
    if not signature:
        return "missing X-Trello-Webhook"
    expected = trello_signature(secret, body, callback_url)
    return None if hmac.compare_digest(expected, signature.strip()) else "signature mismatch"


def verify_jira(
    secret: str,
    body: bytes,
    headers: Mapping[str, str],
    *,
    method: str,
    path: str,
    query: Mapping[str, str] | None = None,
    now: float | None = None,
) -> str | None:
    """A Jira webhook secret (``X-Hub-Signature: sha256=<hex>``) or a Connect app's JWT
    (``Authorization: JWT <token>``, HS256 with the shared secret, ``qsh`` bound to the request).
    """
    signature = _header(headers, "X-Hub-Signature")
    if signature:
        scheme, _, value = signature.partition("=")
        if scheme != "sha256" or not value:
            return "X-Hub-Signature is not sha256=<hex>"
        expected = _hmac_hex(secret.encode(), body, "sha256")
        return (
            None if hmac.compare_digest(expected, value.strip().lower()) else "signature mismatch"
        )
    authorization = _header(headers, "Authorization") or ""
    token = ""
    if authorization.startswith("JWT "):
        token = authorization[4:].strip()
    elif query and query.get("jwt"):
        token = query["jwt"]
    if not token:
        return "neither X-Hub-Signature nor a JWT"
    claims, reason = decode_hs256(token, secret, now=now)
    if claims is None:
        return reason
    qsh = claims.get("qsh")
    if qsh is not None and qsh != "context-qsh":
        expected_qsh = query_string_hash(method, path, query or {})
        if not hmac.compare_digest(str(qsh), expected_qsh):
            return "JWT qsh does not match the request"
    return None


def verify_monday_jwt(
    secret: str, headers: Mapping[str, str], now: float | None = None
) -> str | None:
    """monday.com app webhooks: ``Authorization: <JWT>`` signed (HS256) with the signing secret."""
    authorization = (_header(headers, "Authorization") or "").strip()
    if authorization.lower().startswith("bearer "):
        authorization = authorization[7:].strip()
    if not authorization:
        return "missing Authorization"
    claims, reason = decode_hs256(authorization, secret, now=now)
    return None if claims is not None else reason


def verify_url_token(expected: str, given: str | None) -> str | None:
    """monday.com board webhooks carry no signature: the URL holds a per-connection token."""
    if not given:
        return "missing URL token"
    return None if hmac.compare_digest(expected.encode(), given.encode()) else "wrong URL token"


# --- JWT (HS256 only: both vendors sign with a shared secret) ---------------------------------
def _b64url_decode(segment: str) -> bytes:
    padded = segment + "=" * (-len(segment) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii"))


def _b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def decode_hs256(
    token: str, secret: str, *, now: float | None = None
) -> tuple[dict[str, Any] | None, str]:
    """Verify an HS256 JWT; return (claims, "") or (None, reason)."""
    parts = token.split(".")
    if len(parts) != 3:
        return None, "JWT is not three segments"
    try:
        header = json.loads(_b64url_decode(parts[0]))
        claims = json.loads(_b64url_decode(parts[1]))
        signature = _b64url_decode(parts[2])
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None, "JWT is not valid base64url JSON"
    if not isinstance(header, dict) or header.get("alg") != "HS256":
        return None, "JWT algorithm is not HS256"
    expected = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(expected, signature):
        return None, "JWT signature mismatch"
    if not isinstance(claims, dict):
        return None, "JWT claims are not an object"
    current = time.time() if now is None else now
    exp = claims.get("exp")
    if exp is not None and (not isinstance(exp, int | float) or exp < current - JWT_LEEWAY_SECONDS):
        return None, "JWT expired"
    nbf = claims.get("nbf")
    if nbf is not None and (not isinstance(nbf, int | float) or nbf > current + JWT_LEEWAY_SECONDS):
        return None, "JWT not valid yet"
    return claims, ""


def encode_hs256(claims: Mapping[str, Any], secret: str) -> str:
    """Sign claims (used by tests and by operators who script vendor simulations)."""
    header = _b64url_encode(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = _b64url_encode(json.dumps(dict(claims), separators=(",", ":")).encode())
    signature = hmac.new(secret.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{_b64url_encode(signature)}"


def query_string_hash(method: str, path: str, query: Mapping[str, str]) -> str:
    """Atlassian's ``qsh``: SHA-256 of ``METHOD&path&sorted-encoded-query`` (jwt excluded)."""
    canonical_path = path or "/"
    if len(canonical_path) > 1:
        canonical_path = canonical_path.rstrip("/")
    params = sorted((k, v) for k, v in query.items() if k != "jwt")
    encoded = "&".join(
        f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(v, safe='~')}" for k, v in params
    )
    canonical = f"{method.upper()}&{canonical_path}&{encoded}"
    return hashlib.sha256(canonical.encode()).hexdigest()
