"""An app's instance logs from the deployer (`GET /apps/<name>/logs`): NDJSON entries, one a line,
`{time, instance, node, host, version, stream, line}`; blank lines are keep-alives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import requests

from totem_client.base import ServiceClient, ServiceError, error_from

NDJSON = "application/x-ndjson"
READ_TIMEOUT = 60.0  # seconds without a byte: the deployer sends a keep-alive every 2 s while following


def entries(client: ServiceClient, name: str, **query) -> Iterator[dict]:
    """The entries in time order (`query`: the filters of `lines`); following, until the deployer
    ends the answer (an hour) or the caller stops iterating. ServiceError for an error answer, or
    when the deployer goes away."""
    for raw in lines(client, name, **query):
        if raw.strip():
            yield json.loads(raw)


def lines(
    client: ServiceClient,
    name: str,
    since: str | None = None,
    version: str | None = None,
    instance: str | None = None,
    tail: int | None = None,
    follow: bool = False,
) -> Iterator[bytes]:
    """The answer's lines as sent, keep-alives (empty lines) included: what a proxy passes on."""
    query = {"since": since, "version": version, "instance": instance, "tail": tail, "follow": "1" if follow else None}
    headers = {"Accept": NDJSON}
    if client.token:
        headers["Authorization"] = f"Bearer {client.token}"
    try:
        response = client.session.get(
            f"{client.base_url}/apps/{quote(name, safe='')}/logs",
            params={k: v for k, v in query.items() if v is not None},
            headers=headers,
            stream=True,
            timeout=(client.timeout, READ_TIMEOUT),
        )
    except requests.RequestException as exc:
        raise _gone(client, exc) from None
    if response.status_code >= 400:
        raise error_from(client.service, response)
    with response:
        try:
            yield from response.iter_lines()
        except requests.RequestException as exc:
            raise _gone(client, exc) from None


def _gone(client: ServiceClient, exc: Exception) -> ServiceError:
    return ServiceError(client.service, None, "unreachable", f"cannot reach {client.base_url} ({type(exc).__name__})")
