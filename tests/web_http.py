"""A minimal HTTP browser for the tests that talk to the real web server (werkzeug's, on
127.0.0.1): real sockets, a cookie jar, the CSRF token of the last page, and a chosen
source address (all of 127.0.0.0/8 is this machine on Linux, so 127.0.0.66 is another
client address to the server)."""

from __future__ import annotations

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

MEMBER_HOME = "127.0.0.1"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class Browser:
    """A minimal browser over ``http.client``: a cookie jar (paths respected), a CSRF
    token read from the last page, and a chosen source address."""

    def __init__(self, port: int, source: str = MEMBER_HOME) -> None:
        self.port, self.source = port, source
        self.cookies: dict[str, tuple[str, str]] = {}  # name -> (value, path)
        self.token = ""

    def request(self, method: str, path: str, form: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60,
                                          source_address=(self.source, 0))
        headers = {"Accept-Language": "en"}
        jar = "; ".join(f"{name}={value}" for name, (value, where) in self.cookies.items()
                        if path.startswith(where))
        if jar:
            headers["Cookie"] = jar
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        text = response.read().decode("utf-8", "replace")
        for header in response.headers.get_all("Set-Cookie") or ():
            for name, morsel in SimpleCookie(header).items():
                if morsel.value == "" or morsel["max-age"] == "0":
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = (morsel.value, morsel["path"] or "/")
        conn.close()
        if match := _CSRF.search(text):
            self.token = match.group(1)
        return response.status, response.headers, text

    def open_login(self) -> None:
        status, _, _ = self.request("GET", "/login")
        assert status == 200 and self.token

    def sign_in(self, email: str, password: str):
        if not self.token:
            self.open_login()
        return self.request("POST", "/login", {"email": email, "password": password,
                                               "csrf_token": self.token})

    def get(self, path: str) -> int:
        return self.request("GET", path)[0]
