"""One HTTP GET on a new connection, as curl does."""

from __future__ import annotations

import http.client


def http_get(
    host: str, port: int, path: str = "/", timeout: float = 5
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, raw body bytes) of one GET; connection errors are raised."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()
