"""Measure the password-guessing limits over HTTP against a running site.

    .venv/bin/python scripts/measure_login_guard.py http://127.0.0.1:8000 USERNAME PASSWORD

Run it against a scratch deployment started with TRUSTED_PROXY_COUNT=1 (the script plays the
proxy: it sets X-Forwarded-For to stand for different client addresses) and, to see the
login limits rather than the plain request-rate throttle, a high THROTTLE_TOKEN. It makes
wrong-password attempts and prints, for each limit, how many passwords were checked before
attempts were refused (429). It writes failures into the site's login-protection table:
never point it at a production site.
"""

import http.cookiejar
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request


def post(url, data, headers, opener=None, form=False):
    body = urllib.parse.urlencode(data).encode() if form else json.dumps(data).encode()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded" if form else "application/json", **headers})
    try:
        with (opener or urllib.request.build_opener()).open(request) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def token(base, username, password, address, extra=None):
    return post(f"{base}/api/v1/auth/token/", {"username": username, "password": password},
                {"X-Forwarded-For": address, **(extra or {})})


def page(base, username, password, address):
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar),
                                         type("NoRedirect", (urllib.request.HTTPRedirectHandler,),
                                              {"redirect_request": lambda *a, **k: None})())
    html = opener.open(urllib.request.Request(f"{base}/login/", headers={"X-Forwarded-For": address})).read().decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return post(f"{base}/login/", {"username": username, "password": password, "csrfmiddlewaretoken": csrf},
                {"X-Forwarded-For": address, "Referer": f"{base}/login/"}, opener=opener, form=True)


def checked_until_refused(attempt, limit=60):
    for n in range(limit):
        if attempt(n) == 429:
            return n + 1  # the attempt that reached the limit was checked, and answered 429
    return limit


def main(base, username, password):
    figures = {}
    figures["token endpoint, one username from one address"] = checked_until_refused(
        lambda n: token(base, username, "wrong", "203.0.113.1"))
    figures["  ... then the right password from that address"] = token(base, username, password, "203.0.113.1")
    figures["  ... the right password from another address"] = token(base, username, password, "198.51.100.1")
    figures["sign-in page, one username from one address"] = checked_until_refused(
        lambda n: page(base, username, "wrong", "203.0.113.2"))
    figures["one address, many usernames (4 each)"] = checked_until_refused(
        lambda n: token(base, f"nobody-{n // 4}", "wrong", "203.0.113.3"))
    spread = [checked_until_refused(lambda n, a=a: token(base, username + "-x", "wrong", f"192.0.2.{a}")) for a in range(1, 7)]
    figures["one username, six addresses in turn (checked per address)"] = spread
    figures["  ... the right password from a fresh address"] = token(base, username, password, "192.0.2.200")
    for name, value in figures.items():
        print(f"{name}: {value}")


if __name__ == "__main__":
    main(*sys.argv[1:4])
