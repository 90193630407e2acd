"""A resident's phone, scripted: its own session cookie, behind a proxy that names its address.

Every request carries what nginx adds (X-Forwarded-For with the resident's public address,
X-Forwarded-Proto: https), so with TRUSTED_PROXY_COUNT=1 the app sees a crowd behind one NAT
exactly as it would in production. The session cookie is Secure; this client keeps sending it over
the test's plain HTTP, as a browser does behind TLS termination.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import requests

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
PAY_TOKEN_RE = re.compile(r'name="form_token" value="([^"]+)"')
STEPS = ("open", "checkout", "pay_page", "pay", "thanks", "certificate")


class StepFailed(AssertionError):
    """A step answered something a browser could not go on from."""


@dataclass
class Resident:
    app_url: str
    address: str = "203.0.113.7"
    language: str = "ja"
    timings: dict[str, list[float]] = field(default_factory=dict)  # seconds per request, by step
    statuses: list[tuple[str, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.http = requests.Session()
        self.http.trust_env = False  # no proxy from the environment between us and 127.0.0.1
        origin = urlsplit(self.app_url)
        # The page's own address as the browser saw it (https behind the proxy): Flask-WTF compares
        # the Referer with it on a secure request.
        self.https_origin = f"https://{origin.netloc}"
        # Connection: close, as nginx talks to its upstream by default (HTTP/1.0, one request per
        # connection); a kept-alive connection that gunicorn closes as the next request leaves
        # would look like a failure a browser silently retries.
        self.http.headers.update({"X-Forwarded-For": self.address, "X-Forwarded-Proto": "https",
                                  "Accept-Language": self.language, "User-Agent": "festival-phone/1.0",
                                  "Connection": "close"})

    def _send(self, step: str, method: str, url: str, *, expect: tuple[int, ...], **kwargs) -> requests.Response:
        if url.startswith(self.app_url):
            # The cookies are Secure; requests would hold them back over plain HTTP, a browser
            # behind TLS would not. One session cookie, so no domain or path rules to honour.
            cookies = "; ".join(f"{c.name}={c.value}" for c in self.http.cookies)
            kwargs["headers"] = {**kwargs.get("headers", {}), **({"Cookie": cookies} if cookies else {})}
        started = time.perf_counter()
        response = self.http.request(method, url, allow_redirects=False, timeout=60, **kwargs)
        self.timings.setdefault(step, []).append(time.perf_counter() - started)
        self.statuses.append((step, response.status_code))
        if response.status_code not in expect:
            raise StepFailed(f"{step}: {method} {url} answered {response.status_code}: {response.text[:300]}")
        return response

    def open_addon(self, slug: str) -> str:
        """The add-on page; returns the form's CSRF token."""
        page = self._send("open", "GET", f"{self.app_url}/a/{slug}", expect=(200,))
        match = CSRF_RE.search(page.text)
        if not match:
            raise StepFailed("open: no CSRF token on the add-on page")
        return match.group(1)

    def checkout(self, slug: str, token: str, quantity: int = 1, amount: int | None = None) -> str:
        """Submit the add-on form (an amount for a household offset); returns the pay page's URL."""
        form = {"csrf_token": token, "quantity": str(quantity), "display_name": "", "receipt_email": ""}
        if amount is not None:
            form["amount"] = str(amount)
        response = self._send("checkout", "POST", f"{self.app_url}/a/{slug}/checkout", expect=(303,), data=form,
                              headers={"Referer": f"{self.https_origin}/a/{slug}"})
        return response.headers["Location"]

    def start(self, slug: str, quantity: int = 1, amount: int | None = None) -> str:
        """Open the add-on and check out; the pay page's URL."""
        return self.checkout(slug, self.open_addon(slug), quantity, amount)

    def get(self, step: str, url: str, expect: tuple[int, ...] = (200,)) -> requests.Response:
        """Any page of the site, as this phone."""
        return self._send(step, "GET", url, expect=expect)

    def pay(self, pay_url: str) -> str:
        """Load the sandbox's hosted pay page and press Pay; returns the site's success URL."""
        page = self._send("pay_page", "GET", pay_url, expect=(200,))
        match = PAY_TOKEN_RE.search(page.text)
        if not match:
            raise StepFailed("pay_page: no form token")
        response = self._send("pay", "POST", pay_url, expect=(303,),
                              data={"form_token": match.group(1), "action": "pay"})
        return response.headers["Location"]

    def thanks(self, success_url: str) -> str:
        """Back on the site; returns the certificate's URL."""
        response = self._send("thanks", "GET", success_url, expect=(303,))
        location = response.headers["Location"]
        return location if location.startswith("http") else f"{self.app_url}{location}"

    def certificate(self, url: str) -> str:
        return self._send("certificate", "GET", url, expect=(200,)).text

    def open_login(self) -> str:
        """The log-in page; its CSRF token."""
        page = self._send("login_page", "GET", f"{self.app_url}/auth/login", expect=(200,))
        return CSRF_RE.search(page.text).group(1)

    def log_in(self, token: str, email: str, password: str) -> None:
        self._send("log_in", "POST", f"{self.app_url}/auth/login", expect=(303,),
                   data={"csrf_token": token, "email": email, "password": password},
                   headers={"Referer": f"{self.https_origin}/auth/login"})

    def tally(self, addon_id: int) -> str:
        """One htmx poll of the organiser's live tally."""
        return self._send("tally", "GET", f"{self.app_url}/organiser/addons/{addon_id}/tally", expect=(200,),
                          headers={"HX-Request": "true"}).text

    def journey(self, slug: str, amount: int | None = None) -> str:
        """The whole festival journey: open, check out, pay, thanks, certificate. The certificate HTML."""
        return self.certificate(self.thanks(self.pay(self.start(slug, amount=amount))))


def session_id(pay_url: str) -> str:
    """cs_... from the sandbox's /pay/<session id> URL."""
    return urlsplit(pay_url).path.rsplit("/", 1)[-1]
