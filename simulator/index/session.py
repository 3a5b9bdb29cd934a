"""The one HTTP client render-sim asks package indexes with.

Every request to an index goes through `get`: the fix checker (`PackageIndex`), the stand-in index
that `check` puts in front of pip (pages, wheel METADATA by range requests, sdists), and the
planner and `--verify-fix` through both. So they share:

- one CA bundle, found in one place (`host_ca_bundle`: `$PIP_CERT`, then `$SSL_CERT_FILE`, then
  `$REQUESTS_CA_BUNDLE`, the order `plan` uses for the bundle it trusts inside the container),
  so behind a TLS-re-signing proxy the fix checks work wherever `check` does;
- one user agent;
- retries with exponential backoff on connection errors and on 429/5xx answers (urllib3's
  `Retry`), so one 503 from a busy index is retried instead of turning fix checking off;
- one connection pool per CA bundle (the planner asks the same host hundreds of times).

Errors are two types: `HttpStatusError` (the index answered with an error status: 404 means the
project or file does not exist) and `Unreachable` (no answer: DNS, refused, TLS, timeout, or
still failing after the retries).
"""

from __future__ import annotations

import functools
import os
import ssl
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import urllib3
from urllib3.util import Retry, Timeout

from simulator import __version__

#: Where a CA bundle for a TLS-re-signing proxy is named, first found wins (pip's own variable
#: first: a host set up for pip behind such a proxy has it).
CA_SOURCES = ("PIP_CERT", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE")
USER_AGENT = f"render-sim/{__version__}"
#: Answers worth asking again: rate limiting and the server's own trouble.
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
RETRIES = 3
BACKOFF_S = 0.5  # 0.5 s, 1 s, 2 s between the tries (urllib3: backoff_factor * 2 ** (n - 1))
BACKOFF_MAX_S = 4.0


def host_ca_bundle(environ: Mapping[str, str] = os.environ) -> tuple[Path | None, str]:
    """The CA bundle the host's environment names, and the variable that named it ("$PIP_CERT")."""
    for name in CA_SOURCES:
        value = environ.get(name)
        if value and Path(value).is_file():
            return Path(value), f"${name}"
    return None, ""


class HttpStatusError(Exception):
    """The server answered `status` (>= 400) for `url`, after any retries."""

    def __init__(self, url: str, status: int) -> None:
        super().__init__(f"{url}: HTTP {status}")
        self.url = url
        self.status = status

    @property
    def not_found(self) -> bool:
        return self.status in (404, 410)


class Unreachable(Exception):
    """No answer from the server (DNS, refused, TLS, timeout), after any retries."""


@dataclass(frozen=True)
class Fetched:
    """One answer: its status (200, or 206 for a range), body, type, final URL and range."""

    status: int
    body: bytes
    content_type: str
    url: str
    content_range: str = ""

    @property
    def total_size(self) -> int | None:
        """The whole file's size from `Content-Range: bytes a-b/SIZE`, when the server said."""
        tail = self.content_range.rsplit("/", 1)[-1].strip() if "/" in self.content_range else ""
        return int(tail) if tail.isdigit() else None


@functools.cache
def _pool(ca_bundle: str | None) -> urllib3.PoolManager:
    context = ssl.create_default_context(cafile=ca_bundle)
    return urllib3.PoolManager(num_pools=32, maxsize=8, ssl_context=context)


def _retry(retries: int) -> Retry:
    return Retry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        redirect=10,
        backoff_factor=BACKOFF_S,
        backoff_max=BACKOFF_MAX_S,
        status_forcelist=RETRY_STATUSES,
        allowed_methods=frozenset({"GET"}),
        raise_on_status=False,  # the last answer's status is ours to report
        respect_retry_after_header=False,  # an index asking for minutes must not hang a check
    )


def _final_url(url: str, response: urllib3.BaseHTTPResponse) -> str:
    """The absolute URL the answer came from: urllib3 keeps each redirect's `Location` as sent,
    often relative, so it is resolved hop by hop (a page's relative links are relative to it)."""
    final = url
    history = response.retries.history if response.retries is not None else ()
    for hop in history:
        if hop.redirect_location:
            final = urllib.parse.urljoin(final, hop.redirect_location)
    return final


def get(
    url: str,
    *,
    accept: str | None = None,
    byte_range: str | None = None,
    timeout: float = 10.0,
    limit: int | None = None,
    retries: int = RETRIES,
    user_agent: str = USER_AGENT,
) -> Fetched:
    """GET `url` (following redirects); `limit`: read at most that many bytes of the body.

    Raises `HttpStatusError` for a status of 400 or more and `Unreachable` when no answer came.
    """
    if not url.startswith(("http://", "https://")):
        raise Unreachable(f"{url}: not an http(s) URL")
    headers = {"User-Agent": user_agent}
    if accept:
        headers["Accept"] = accept
    if byte_range:
        headers["Range"] = byte_range
    ca_bundle, _ = host_ca_bundle()
    try:
        response = _pool(str(ca_bundle) if ca_bundle else None).request(
            "GET",
            url,
            headers=headers,
            timeout=Timeout(connect=timeout, read=timeout),
            retries=_retry(retries),
            preload_content=False,
        )
        try:
            body = response.read(limit) if limit is not None else response.read()
        finally:
            response.release_conn()
    except urllib3.exceptions.HTTPError as error:  # MaxRetryError, SSLError, ProtocolError, ...
        reason = getattr(error, "reason", None) or error
        raise Unreachable(f"{url}: {reason}") from error
    if response.status >= 400:
        raise HttpStatusError(url, response.status)
    return Fetched(
        status=response.status,
        body=body,
        content_type=response.headers.get("Content-Type", ""),
        url=_final_url(url, response),
        content_range=response.headers.get("Content-Range", ""),
    )
