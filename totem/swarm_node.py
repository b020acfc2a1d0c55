"""This node's address in its Docker Swarm, asked of the local engine (`docker info` →
Swarm.NodeAddr): for a global Swarm service whose command is the same on every node
(`yoda-discover --host-ip swarm`, `yoda-proxy --advertise swarm`)."""

from __future__ import annotations

FROM_SWARM = ("swarm", "auto")  # option values resolved through the local engine


def swarm_address(info: dict, option: str = "--host-ip swarm") -> str:
    """The address a Swarm node advertises, from its engine's `docker info`; ValueError off a swarm."""
    swarm = info.get("Swarm") or {}
    address = swarm.get("NodeAddr") or ""
    if swarm.get("LocalNodeState") != "active" or not address:
        state = swarm.get("LocalNodeState") or "unknown"
        raise ValueError(f"{option}: this Docker engine is not an active swarm node (state {state})")
    return address


def resolve(value: str, docker_host: str, option: str) -> str:
    """`value` as given, or for swarm/auto the local engine's Swarm node address; ValueError (one
    line naming `option`) when the engine does not answer or is in no swarm."""
    if value not in FROM_SWARM:
        return value
    import docker
    from docker.errors import DockerException

    try:
        client = docker.DockerClient(base_url=docker_host, timeout=30)
        try:
            info = client.info()
        finally:
            client.close()
    except DockerException as exc:  # the engine does not answer (its own message says why)
        raise ValueError(f"{option} {value}: cannot ask the Docker engine at {docker_host}: {exc}") from None
    return swarm_address(info, f"{option} {value}")
