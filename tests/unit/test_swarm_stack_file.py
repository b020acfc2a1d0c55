"""deploy/stack.yml as `docker stack config` resolves it (the docker CLI alone, no engine): the required
variables, placement, host networking, and secrets only ever as files. The stack running on a Swarm is
tests/cluster/test_totem_on_swarm.py."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from totem_stack.images import REPO

STACK, LOCAL_GIT = REPO / "deploy" / "stack.yml", REPO / "deploy" / "local-git.yml"
REQUIRED = {
    "TOTEM_IMAGE": "127.0.0.1:5000/totem/totem:1",
    "TOTEM_ETCD_URL": "etcd://10.0.0.11:2379,10.0.0.12:2379,10.0.0.13:2379",
    "TOTEM_REDIS_URL": "redis://10.0.0.11:6379/0",
    "TOTEM_SWARM_HOST": "tcp://10.0.0.11:2376",
}
SECRETS = ("TOTEM_HOOK_SECRET", "TOTEM_API_TOKEN", "TOTEM_ENCRYPTION_KEY", "YODA_ADMIN_PASSWORD")
LISTENING = ("orchestrator", "deployer", "image-factory", "yoda-proxy")


def _has_stack_config() -> bool:
    if not shutil.which("docker"):
        return False
    probe = subprocess.run(["docker", "stack", "config", "--help"], capture_output=True, timeout=30)
    return probe.returncode == 0


pytestmark = pytest.mark.skipif(not _has_stack_config(), reason="needs a docker CLI with `docker stack config`")


def config(variables: dict[str, str], *files) -> subprocess.CompletedProcess:
    argv = ["docker", "stack", "config"]
    for path in files or (STACK,):
        argv += ["--compose-file", str(path)]
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", **variables}
    return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)


def services(variables: dict[str, str] | None = None, *files) -> dict[str, dict]:
    result = config({**REQUIRED, **(variables or {})}, *files)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)["services"]


@pytest.mark.parametrize("missing", sorted(REQUIRED))
def test_a_missing_required_variable_is_named(missing):
    result = config({k: v for k, v in REQUIRED.items() if k != missing})
    assert result.returncode != 0
    assert f"required variable {missing} is missing" in result.stderr


def test_every_service_is_on_the_host_network_and_the_listening_ones_one_per_edge_node():
    found = services()
    assert set(found) == {*LISTENING, "orchestrator-worker", "image-factory-worker", "deployer-worker"} | {
        "redis",
        "yoda-discover",
    }
    assert all(list(spec["networks"]) == ["hostnet"] for spec in found.values())
    for name in (*LISTENING, "orchestrator-worker", "image-factory-worker", "deployer-worker"):
        assert found[name]["deploy"]["mode"] == "global", name
        assert found[name]["deploy"]["placement"]["constraints"] == ["node.labels.edge == true"], name
    assert found["yoda-discover"]["deploy"]["mode"] == "global"
    assert "placement" not in found["yoda-discover"]["deploy"]
    assert found["redis"]["deploy"]["placement"]["constraints"] == ["node.role == manager"]
    assert "--host-ip" in found["yoda-discover"]["command"]
    assert found["yoda-discover"]["command"][found["yoda-discover"]["command"].index("--host-ip") + 1] == "swarm"


def test_secrets_are_files_from_swarm_secrets_never_environment_values():
    for name, spec in services().items():
        env = spec.get("environment") or {}
        assert not set(env) & set(SECRETS), name
        mounted = {f"/run/secrets/{secret['target']}" for secret in spec.get("secrets") or []}
        files = {value for key, value in env.items() if key.endswith("_FILE")}
        assert files <= mounted, name
        certs = env.get("TOTEM_DOCKER_CERTS")
        if certs:
            assert {f"{certs}/{file}" for file in ("ca.pem", "cert.pem", "key.pem")} <= mounted, name
    deployer = services()["deployer"]
    assert {s["source"] for s in deployer["secrets"]} == {
        "totem_hook_secret",
        "totem_api_token",
        "totem_encryption_key",
        "totem_docker_ca",
        "totem_docker_cert",
        "totem_docker_key",
    }


def test_ports_prefix_and_socket_are_variables():
    variables = {"ORCHESTRATOR_PORT": "19400", "PROXY_HTTP_PORT": "9080", "YODA_BASE": "/yoda-swarm"}
    variables["DOCKER_SOCKET"] = "/run/sockets/{{.Node.ID}}.sock"
    found = services(variables)
    assert "0.0.0.0:19400" in found["orchestrator"]["command"]
    assert "0.0.0.0:9080" in found["yoda-proxy"]["command"]
    assert found["deployer"]["environment"]["TOTEM_ORCHESTRATOR_URL"] == "http://127.0.0.1:19400"
    bases = {(spec.get("environment") or {}).get("YODA_BASE") for name, spec in found.items() if name != "redis"}
    assert bases == {"/yoda-swarm"}
    sources = {m["source"] for m in found["image-factory-worker"]["volumes"] if m["type"] == "bind"}
    assert sources == {"/run/sockets/{{.Node.ID}}.sock"}  # Swarm expands it on each node


def test_local_git_mounts_the_repositories_where_the_url_template_points():
    found = services({"TOTEM_GIT_ROOT": "/srv/totem/git"}, STACK, LOCAL_GIT)
    for name in ("orchestrator", "orchestrator-worker", "image-factory", "image-factory-worker"):
        spec = found[name]
        assert spec["environment"]["TOTEM_GIT_URL_TEMPLATE"] == "file:///srv/totem/git/{owner}/{repo}.git"
        git = [m for m in spec["volumes"] if m["target"] == "/srv/totem/git"]
        assert git == [{"type": "bind", "source": "/srv/totem/git", "target": "/srv/totem/git", "read_only": True}]
        assert any(m["target"] == "/var/lib/totem" for m in spec["volumes"]), name  # merged, not replaced
