"""One HTTP GET for the sources that poll a server (RSS/Atom feeds, JSON APIs), with every way it
can fail turned into a SourceError that says what happened and what to check.

The errors' keys are http_* (strings.py `wferr.<key>`), with the source's kind as the dashboard names
it in `source` (订阅源, 数据接口) and as the English text does in `noun` ("feed", "API"). Sources'
errors stored before these keys (feed_timeout …) keep their own Chinese texts.
"""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

from ..errors import SourceError


def get(url: str, headers: dict, timeout: float, max_bytes: int, noun: str = "feed",
        source: str = "订阅源") -> tuple[int, bytes, dict]:
    """(status, body, headers) of a GET; status 304 (not modified) comes back with an empty body.
    Raises SourceError for a body over `max_bytes`, HTTP 429 (rate limited, with the wait the
    server asked for), 4xx, 5xx, a refused connection, a timeout or no route."""
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read(max_bytes + 1)
            if len(body) > max_bytes:
                mb = max_bytes // (1024 * 1024)
                raise SourceError(f"{noun} {url} is larger than {mb} MB; not read", "http_too_large", url=url, mb=mb,
                                  source=source)
            return response.status, body, dict(response.headers.items())
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return 304, b"", dict(exc.headers.items()) if exc.headers else {}
        if exc.code == 429:
            wait = (exc.headers.get("Retry-After") if exc.headers else None) or "?"
            raise SourceError(f"{noun} {url} is rate limited (HTTP 429): it asks to wait {wait} s; polled again "
                              "at the next poll (a longer poll interval may be needed)", "http_rate_limited",
                              url=url, wait=wait, source=source) from None
        if exc.code >= 500:
            raise SourceError(f"{noun} {url} is unavailable: HTTP {exc.code} {exc.reason} (server error)",
                              "http_server_error", url=url, code=exc.code, source=source) from None
        raise SourceError(f"{noun} {url} is unavailable: HTTP {exc.code} {exc.reason} (request refused)",
                          "http_refused", url=url, code=exc.code, source=source) from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, (socket.timeout, TimeoutError)):
            raise _timed_out(url, timeout, noun, source) from None
        if isinstance(reason, ConnectionRefusedError):
            raise SourceError(f"{noun} {url} is unavailable: connection refused (is the server down?)",
                              "http_connection_refused", url=url, source=source) from None
        raise SourceError(f"{noun} {url} is unavailable: {reason}", "http_unreachable", url=url,
                          source=source) from None
    except (socket.timeout, TimeoutError):
        raise _timed_out(url, timeout, noun, source) from None
    except (ConnectionError, OSError) as exc:
        raise SourceError(f"{noun} {url} is unavailable: {exc}", "http_unreachable", url=url, source=source) from None


def _timed_out(url: str, timeout: float, noun: str, source: str) -> SourceError:
    return SourceError(f"{noun} {url} is unavailable: timed out after {timeout:g} s", "http_timeout",
                       url=url, seconds=f"{timeout:g}", source=source)
