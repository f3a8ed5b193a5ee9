"""The signature is the Standard Webhooks one, and where a webhook may go."""

import base64
import time

import pytest

from appeals.notifications import webhook

# The example of the Standard Webhooks specification (standardwebhooks.com): secret, id,
# timestamp and body give exactly this signature.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY = "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def _headers(sig, *, msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP):
    return {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), "webhook-signature": sig}


def test_signature_matches_the_specification_example():
    assert webhook.sign(secret=SPEC_SECRET, msg_id=SPEC_ID, timestamp=SPEC_TIMESTAMP, body=SPEC_BODY) == SPEC_SIGNATURE


def test_verify_accepts_within_the_replay_window_and_refuses_outside_it():
    now = SPEC_TIMESTAMP + 299
    assert webhook.verify(secret=SPEC_SECRET, headers=_headers(SPEC_SIGNATURE), body=SPEC_BODY, tolerance=300, now=now)
    assert not webhook.verify(secret=SPEC_SECRET, headers=_headers(SPEC_SIGNATURE), body=SPEC_BODY, tolerance=300,
                              now=SPEC_TIMESTAMP + 301)
    assert not webhook.verify(secret=SPEC_SECRET, headers=_headers(SPEC_SIGNATURE), body=SPEC_BODY, tolerance=300,
                              now=SPEC_TIMESTAMP - 301)


def test_verify_refuses_a_changed_body_id_timestamp_or_secret():
    now = SPEC_TIMESTAMP
    assert not webhook.verify(secret=SPEC_SECRET, headers=_headers(SPEC_SIGNATURE), body=b'{"test": 1}', now=now)
    assert not webhook.verify(secret=SPEC_SECRET, headers=_headers(SPEC_SIGNATURE, msg_id="msg_other"), body=SPEC_BODY, now=now)
    assert not webhook.verify(secret=SPEC_SECRET, headers=_headers(SPEC_SIGNATURE, timestamp=SPEC_TIMESTAMP + 1),
                              body=SPEC_BODY, now=now)
    assert not webhook.verify(secret=webhook.generate_secret(), headers=_headers(SPEC_SIGNATURE), body=SPEC_BODY, now=now)
    assert not webhook.verify(secret=SPEC_SECRET, headers={}, body=SPEC_BODY, now=now)


def test_any_of_several_signatures_verifies_during_a_rotation():
    old, new = webhook.generate_secret(), webhook.generate_secret()
    stamp = int(time.time())
    both = " ".join(webhook.sign(secret=s, msg_id="msg_1", timestamp=stamp, body=b"{}") for s in (new, old))
    for secret in (old, new):
        assert webhook.verify(secret=secret, headers=_headers(both, msg_id="msg_1", timestamp=stamp), body=b"{}")


def test_generated_secrets_are_whsec_and_32_random_bytes():
    a, b = webhook.generate_secret(), webhook.generate_secret()
    assert a.startswith("whsec_") and a != b
    assert len(base64.b64decode(a[len("whsec_"):])) == 32


@pytest.mark.parametrize(("url", "problem"), [
    ("https://203.0.113.10/hooks", "address"),  # TEST-NET: reserved, not global
    ("https://169.254.169.254/latest/meta-data/", "address"),  # cloud metadata (link-local)
    ("https://[fe80::1]/hooks", "address"),
    ("https://10.0.0.8/hooks", "address"),
    ("https://[::ffff:169.254.169.254]/", "address"),
    ("https://0.0.0.0/", "address"),
    ("ftp://8.8.8.8/", "scheme"),
    ("http://8.8.8.8/hooks", "scheme"),  # plain http off this machine
    ("https://user:pw@8.8.8.8/hooks", "credentials"),
    ("https://8.8.8.8/hooks", ""),
    ("https://[2001:4860:4860::8888]/hooks", ""),
])
def test_where_a_webhook_may_go(settings, url, problem):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_LOOPBACK_HTTP": False}
    assert webhook.url_problem(url) == problem


def test_loopback_over_http_only_where_local_settings_allow_it(settings):
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_LOOPBACK_HTTP": False}
    assert webhook.url_problem("http://127.0.0.1:18200/hooks") == "address"
    assert webhook.url_problem("https://127.0.0.1/hooks") == "address"
    settings.WEBHOOKS = {**settings.WEBHOOKS, "ALLOW_LOOPBACK_HTTP": True}
    assert webhook.url_problem("http://127.0.0.1:18200/hooks") == ""
    assert webhook.url_problem("http://localhost:18200/hooks") == ""
    # Never link-local, even where loopback is allowed.
    assert webhook.url_problem("http://169.254.169.254/") == "address"


@pytest.mark.parametrize(("url", "address", "expected"), [
    ("https://hooks.example.com/in", "93.184.216.34",
     ("https://93.184.216.34/in", {"host": "hooks.example.com"}, {"sni_hostname": "hooks.example.com"})),
    ("https://hooks.example.com:8443/in?x=1", "2001:db8::7",
     ("https://[2001:db8::7]:8443/in?x=1", {"host": "hooks.example.com:8443"}, {"sni_hostname": "hooks.example.com"})),
    ("http://localhost:18200/hooks", "127.0.0.1", ("http://127.0.0.1:18200/hooks", {"host": "localhost:18200"}, {})),
    ("https://8.8.8.8/hooks", "8.8.8.8", ("https://8.8.8.8/hooks", {}, {})),  # a literal is sent as it is
])
def test_the_post_is_pinned_to_the_checked_address_under_the_receivers_own_name(url, address, expected):
    """Host header and TLS server name stay the receiver's, so its virtual host answers and its
    certificate is verified for its name, while the connection goes where the check looked."""
    assert webhook.pinned(url, address) == expected
