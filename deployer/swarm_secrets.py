"""Decrypted values as Docker Swarm secrets: one secret per value and deployment (or job run),
labelled with the deployment, attached to each service at /run/secrets/NAME (mode 0400), removed
with the deployment's services. A secret's data never leaves the swarm's raft store again: service
and secret inspection show ids and names only."""

from __future__ import annotations

import hashlib
import logging

from docker.errors import APIError, NotFound
from docker.types import SecretReference

from totem.contracts.labels import CLUSTER, DEPLOYMENT, RUN, selector

log = logging.getLogger("deployer.swarm_secrets")
NAME_LIMIT = 64  # swarm object names
SECRET_LABEL = "totem.secret"


def secret_name(owner: str, variable: str) -> str:
    digest = hashlib.sha256(f"{owner}/{variable}".encode()).hexdigest()[:10]
    return f"{owner[:30].rstrip('-.')}-{variable[:20].rstrip('_')}-{digest}"[:NAME_LIMIT]


def attach(client, labels: dict[str, str], owner: str, files: dict[str, str]) -> list[SecretReference]:
    """A secret per file (an earlier attempt's reused: a deployment's values never change)."""
    references = []
    for variable, value in sorted(files.items()):
        name = secret_name(owner, variable)
        found = client.secrets.list(filters={"name": name})
        secret = next((s for s in found if s.name == name), None)
        if secret is None:
            secret = client.secrets.create(name=name, data=value.encode(), labels={**labels, SECRET_LABEL: variable})
        references.append(SecretReference(secret.id, name, filename=variable, uid="0", gid="0", mode=0o400))
    return references


def secret_labels(cluster: str, deployment: str, run: str | None = None) -> dict[str, str]:
    found = {CLUSTER: cluster, DEPLOYMENT: deployment}
    if run:
        found[RUN] = run
    return found


def remove(client, cluster: str, deployment: str, run: str | None = None) -> None:
    """The secrets of the deployment (a run's alone when `run` is given); the deployment's include
    its runs'. One still in use (its service not gone yet) is left to the next removal."""
    wanted = [selector(CLUSTER, cluster), selector(DEPLOYMENT, deployment)]
    if run:
        wanted.append(selector(RUN, run))
    for secret in client.secrets.list(filters={"label": wanted}):
        try:
            secret.remove()
        except NotFound:
            pass
        except APIError as exc:
            log.warning("secret %s of %s not removed yet: %s", secret.name, deployment, exc.explanation)
