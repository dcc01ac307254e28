"""Each vendor's webhook signature scheme, checked against values computed independently."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

import pytest

from core.pm import signatures

BODY = b'{"action":"opened","number":1}'


def test_github_hmac_sha256() -> None:
    good = "sha256=" + hmac.new(b"s3cret", BODY, hashlib.sha256).hexdigest()
    assert signatures.verify_github("s3cret", BODY, {"X-Hub-Signature-256": good}) is None
    assert (
        signatures.verify_github("s3cret", BODY, {"x-hub-signature-256": good}) is None
    )  # any case
    assert (
        signatures.verify_github("other", BODY, {"X-Hub-Signature-256": good})
        == "signature mismatch"
    )
    assert (
        signatures.verify_github("s3cret", BODY + b" ", {"X-Hub-Signature-256": good})
        == "signature mismatch"
    )
    assert signatures.verify_github("s3cret", BODY, {}) == "missing X-Hub-Signature-256"
    sha1 = "sha1=" + hmac.new(b"s3cret", BODY, hashlib.sha1).hexdigest()
    assert signatures.verify_github("s3cret", BODY, {"X-Hub-Signature-256": sha1}) is not None


def test_asana_hex_hmac_of_the_body() -> None:
    good = hmac.new(b"hook-secret", BODY, hashlib.sha256).hexdigest()
    assert signatures.verify_asana("hook-secret", BODY, {"X-Hook-Signature": good}) is None
    assert (
        signatures.verify_asana("hook-secret", BODY, {"X-Hook-Signature": good[:-1] + "0"})
        is not None
    )
    assert signatures.verify_asana("hook-secret", BODY, {}) == "missing X-Hook-Signature"


def test_trello_base64_hmac_sha1_of_body_plus_callback_url() -> None:
    url = "https://frames.example.edu/webhooks/trello/trello-board"
    good = base64.b64encode(
        hmac.new(b"app-secret", BODY + url.encode(), hashlib.sha1).digest()
    ).decode()
    assert signatures.verify_trello("app-secret", BODY, {"X-Trello-Webhook": good}, url) is None
    assert (
        signatures.verify_trello("app-secret", BODY, {"X-Trello-Webhook": good}, url + "x")
        is not None
    )
    assert signatures.verify_trello("app-secret", BODY, {}, url) == "missing X-Trello-Webhook"


def test_jira_shared_secret_signature() -> None:
    good = "sha256=" + hmac.new(b"jira", BODY, hashlib.sha256).hexdigest()
    kwargs = {"method": "POST", "path": "/webhooks/jira/j"}
    assert signatures.verify_jira("jira", BODY, {"X-Hub-Signature": good}, **kwargs) is None
    assert (
        signatures.verify_jira("nope", BODY, {"X-Hub-Signature": good}, **kwargs)
        == "signature mismatch"
    )
    assert signatures.verify_jira("jira", BODY, {}, **kwargs) == "neither X-Hub-Signature nor a JWT"


def test_atlassian_query_string_hash_canonical_form() -> None:
    # Canonical request per Atlassian's spec: METHOD&path&sorted, encoded params (jwt dropped).
    expected = hashlib.sha256(b"POST&/webhooks/jira/j&a=1&b=x%20y").hexdigest()
    assert (
        signatures.query_string_hash(
            "post", "/webhooks/jira/j/", {"b": "x y", "a": "1", "jwt": "t"}
        )
        == expected
    )


def test_jira_connect_jwt_is_bound_to_the_request_and_expires() -> None:
    now = time.time()
    path = "/webhooks/jira/j"
    claims = {"iss": "app", "exp": now + 60, "qsh": signatures.query_string_hash("POST", path, {})}
    token = signatures.encode_hs256(claims, "shared")
    headers = {"Authorization": f"JWT {token}"}
    assert (
        signatures.verify_jira("shared", BODY, headers, method="POST", path=path, now=now) is None
    )
    assert signatures.verify_jira(
        "shared", BODY, headers, method="POST", path=path + "x", now=now
    ) == ("JWT qsh does not match the request")
    assert (
        signatures.verify_jira("other", BODY, headers, method="POST", path=path, now=now)
        == "JWT signature mismatch"
    )
    assert (
        signatures.verify_jira("shared", BODY, headers, method="POST", path=path, now=now + 3600)
        == "JWT expired"
    )


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("a.b", "JWT is not three segments"),
        ("!!.!!.!!", "JWT is not valid base64url JSON"),
    ],
)
def test_malformed_jwts_are_refused(token: str, reason: str) -> None:
    assert signatures.decode_hs256(token, "k") == (None, reason)


def test_jwt_with_another_algorithm_is_refused() -> None:
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    payload = base64.urlsafe_b64encode(b'{"exp": 9999999999}').rstrip(b"=").decode()
    assert signatures.decode_hs256(f"{header}.{payload}.", "k") == (
        None,
        "JWT algorithm is not HS256",
    )


def test_monday_app_jwt_and_board_url_token() -> None:
    token = signatures.encode_hs256({"exp": time.time() + 60, "dat": {"app_id": 1}}, "signing")
    assert signatures.verify_monday_jwt("signing", {"Authorization": token}) is None
    assert signatures.verify_monday_jwt("signing", {"Authorization": f"Bearer {token}"}) is None
    assert (
        signatures.verify_monday_jwt("other", {"Authorization": token}) == "JWT signature mismatch"
    )
    assert signatures.verify_monday_jwt("signing", {}) == "missing Authorization"
    assert signatures.verify_url_token("t0ken", "t0ken") is None
    assert signatures.verify_url_token("t0ken", "t0ke") == "wrong URL token"
    assert signatures.verify_url_token("t0ken", None) == "missing URL token"
