"""The whole Totem stack for dashboard and operator-CLI tests, on free loopback ports: orchestrator,
image factory and deployer (gunicorn APIs + Celery workers), yoda-discover, a real yoda-proxy, and the
dashboard. Private Redis database (db 8 of the shared Redis, or a test's own Redis: `redis_url`), etcd
prefixes, cluster and queues; a local git repository whose commits build a busybox web app that answers
`version=<n>`, and its pushes delivered as GitHub webhooks by the demo's post-receive sender."""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import redis
import requests

from tests.fixtures.deployer.harness import Process
from tests.images.image_factory.git_repos import GitRepo
from tests.support import discover_watch_args, healthy
from totem.api import gunicorn_conf
from totem.contracts.labels import CLUSTER, selector
from totem.net import free_port
from totem.settings import Settings
from totem.store import connect
from totem.waiting import WaitTimeout, wait
from totem.workers import make_celery
from totem_demo import github_push, post_receive
from totem_stack import supervise

REPO = Path(__file__).resolve().parents[2]
REDIS_DB = 8  # the dashboard tests' own database: their queues never meet another suite's
TOKEN = "dash-test-token-" + uuid.uuid4().hex
SECRET = "dash-test-hook-secret-" + uuid.uuid4().hex
SETTLED = ("PROMOTED", "FAILED", "DECOMMISSIONED")

DOCKERFILE = """FROM scratch
COPY busybox /bin/busybox
COPY start.sh /start.sh
RUN ["/bin/busybox", "sh", "-c", "printf '\\u001b[32mbuilt\\u001b[0m the \\u001b[1msample\\u001b[0m app\\n'"]
ENTRYPOINT ["/bin/busybox", "sh", "/start.sh"]
"""
START = """/bin/busybox mkdir -p /www
echo "version=VERSION" > /www/index.html
echo ok > /www/health
exec /bin/busybox httpd -f -p "$PORT" -h /www
"""
TOTEM_YML = """deployers:
  default:
    deployment:
      nodes: {nodes}
      check: {{min-nodes: {nodes}, path: /health, timeout: 2s, attempts: 10}}
      stop: {{timeout: 2s}}
    proxy:
      hosts:
        public:
          hostname: {host}
          locations:
            _home: {{port: 8080, path: /}}
      upstreams:
        "8080": {{mode: http, health: {{uri: /health, timeout: 1s, interval: 1s}}}}
"""


class FullStack:
    def __init__(self, nodes: int = 1, redis_url: str | None = None, env: dict[str, str] | None = None):
        """`redis_url`: another Redis than the shared one (a test's PrivateRedis); `env`: settings over ours."""
        self.id = uuid.uuid4().hex[:8]
        self.root = f"/test-dash-{self.id}/"
        self.base = f"{self.root}yoda"
        self.cluster = f"d{self.id}"
        self.owner, self.repo, self.ref = f"dash-{self.id}", "hello", "main"
        self.app = f"{self.owner}-{self.repo}-{self.ref}"
        self.host = f"hello-{self.id}.localhost"
        self.nodes = nodes
        self.work = Path(tempfile.mkdtemp(prefix="dashboard-test-"))
        self.ports = {name: free_port() for name in ("orchestrator", "image_factory", "deployer", "dashboard")}
        self.urls = {name: f"http://127.0.0.1:{port}" for name, port in self.ports.items()}
        self.redis_prefix = f"totem-dashtest:{self.id}"
        self.env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            TOTEM_REDIS_URL=redis_url or f"redis://127.0.0.1:6379/{REDIS_DB}",
            TOTEM_HOOK_SECRET=SECRET,
            TOTEM_API_TOKEN=TOKEN,
            TOTEM_INSECURE_DEV="0",
            TOTEM_CLUSTER=self.cluster,
            TOTEM_ENV=f"t{self.id}",
            YODA_BASE=self.base,
            TOTEM_ORCHESTRATOR_URL=self.urls["orchestrator"],
            TOTEM_DEPLOYER_URL=self.urls["deployer"],
            TOTEM_IMAGE_FACTORY_URL=self.urls["image_factory"],
            TOTEM_GIT_URL_TEMPLATE=f"file://{self.work}/git/{{owner}}/{{repo}}.git",
            TOTEM_CONFIG_PROVIDERS="repo,default",
            TOTEM_CONFIG_ETCD_PREFIX=f"{self.root}config",
            TOTEM_ORCHESTRATOR_PREFIX=f"{self.redis_prefix}:orchestrator",
            TOTEM_DEPLOY_ATTEMPTS="3",
            TOTEM_DEPLOY_BACKOFF="0.2",
            TOTEM_IMAGE_FACTORY_PREFIX=f"{self.redis_prefix}:image_factory",
            TOTEM_IMAGE_FACTORY_QUEUE=f"image_factory_dash_{self.id}",
            TOTEM_IMAGE_FACTORY_WORKDIR=str(self.work / "if"),
            TOTEM_HOOK_ATTEMPTS="3",
            TOTEM_HOOK_BACKOFF="0.2",
            TOTEM_DEPLOYER_PREFIX=f"{self.root}deployer",
            TOTEM_DEPLOYER_DRAIN="0.5",
            TOTEM_DEPLOYER_DISCOVER_TIMEOUT="15",
            TOTEM_DEPLOYER_START_TIMEOUT="30",
            TOTEM_DEPLOYER_ACK_TIMEOUT="20",
            TOTEM_DEPLOYER_LOCK_TTL="3",
            TOTEM_DEPLOYER_SWEEP_INTERVAL="1",
            TOTEM_DEPLOYER_RECONCILE_INTERVAL="3600",
            TOTEM_DEPLOYER_CHECK_INTERVAL="0.2",
            TOTEM_SCHEDULER="docker",
            TOTEM_LOG_FORMAT="kv",
            TOTEM_DASHBOARD_SECRET=uuid.uuid4().hex,
            PYTHONUNBUFFERED="1",
            **(env or {}),
        )
        self.env.pop("TOTEM_BUILD_LOG_BUCKET", None)
        self.processes: list[Process] = []
        self.proxy = None
        self.docker = docker.from_env()
        self.etcd_url = self.env.get("TOTEM_ETCD_URL", "etcd://127.0.0.1:2379")
        self.store = connect(self.etcd_url)
        self.git = GitRepo(self.work / "git", self.owner, self.repo)
        self.commits: dict[str, str] = {}

    # -- processes ---------------------------------------------------------------
    def _run(self, name: str, *argv: str) -> None:
        self._supervised(name, [sys.executable, "-m", *argv])

    def _gunicorn(self, name: str, package: str) -> None:
        argv = gunicorn_conf.command(package, f"127.0.0.1:{self.ports[name]}", "-w", "1", "--graceful-timeout", "2")
        self._supervised(name, argv)

    def _supervised(self, name: str, argv: list[str]) -> None:
        """Under the demo's supervisor, which starts a process again when it dies (a Celery worker may
        die when it loses its broker)."""
        self.processes.append(Process(supervise.command(argv), self.env, self.work / f"{name}.log").start())

    @property
    def restarted(self) -> list[str]:
        """The processes the supervisor started again, once per restart."""
        return [log.stem for log in sorted(self.work.glob("*.log")) for _ in range(log.read_text().count("supervise:"))]

    def _worker(self, name: str, module: str, queue: str, *extra: str) -> None:
        self._run(
            f"{name}-worker",
            "celery",
            "-A",
            module,
            "worker",
            "-Q",
            queue,
            "-P",
            "threads",
            "-c",
            "4",
            "-n",
            f"{name}-{self.id}@%h",
            "--loglevel",
            "INFO",
            *extra,
        )

    def start(self) -> FullStack:
        from yoda_proxy.testing import ProxyProcess

        self.proxy = ProxyProcess(self.etcd_url, base=self.base).start()
        self.env["TOTEM_DASHBOARD_PROXY_PORT"] = str(self.proxy.http)
        self._gunicorn("orchestrator", "orchestrator")
        self._gunicorn("image_factory", "image_factory")
        self._gunicorn("deployer", "deployer")
        self._gunicorn("dashboard", "totem_dashboard")
        self._worker("orchestrator", "orchestrator.worker", "orchestrator", "-B", "-s", str(self.work / "orch-beat"))
        queue = self.env["TOTEM_IMAGE_FACTORY_QUEUE"]
        self._worker("image_factory", "image_factory.worker", queue, "-B", "-s", str(self.work / "if-beat"))
        self._worker("deployer", "deployer.worker", "deployer", "-B", "-s", str(self.work / "beat"))
        self._run("discover", "yoda_discover", *discover_watch_args(self.etcd_url, self.base, self.cluster))
        for service, queue in (
            ("orchestrator", "orchestrator"),
            ("deployer", "deployer"),
            ("image_factory", self.env["TOTEM_IMAGE_FACTORY_QUEUE"]),
        ):
            self._wait_worker(service, queue)
        for name, url in self.urls.items():
            wait(lambda url=url: healthy(url + "/health"), 30, 0.2, what=f"{name} answering\n{self.logs()}")
        return self

    def _wait_worker(self, service: str, queue: str) -> None:
        """Until the worker consumes its queue (a task sent before it declared the queue would be lost)."""
        app = make_celery(service, Settings.from_env(self.env))

        def pong():
            try:
                return app.send_task(f"{service}.ping", queue=queue).get(timeout=1) or True
            except Exception:  # not consuming yet
                return None

        try:
            wait(pong, 40, 0.1, what=f"{service} worker consuming")
        finally:
            app.close()

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(timeout=10)
        if self.proxy:
            self.proxy.stop()
        for container in self.docker.containers.list(all=True, filters={"label": selector(CLUSTER, self.cluster)}):
            _quietly(container.remove, force=True)
        for image in self.docker.api.images(filters={"label": f"totem.build.owner={self.owner}"}):
            _quietly(self.docker.api.remove_image, image["Id"], force=True)
        self.store.delete_prefix(self.root)
        client = redis.Redis.from_url(self.env["TOTEM_REDIS_URL"], socket_connect_timeout=2)
        try:
            for key in client.scan_iter(match=f"{self.redis_prefix}:*", count=500):
                client.delete(key)
        except redis.ConnectionError:  # a private Redis already stopped: nothing of ours is left
            pass
        client.close()
        self.docker.close()
        shutil.rmtree(self.work, ignore_errors=True)

    def logs(self) -> str:
        logs = sorted(self.work.glob("*.log"))
        return "\n".join(f"== {p.name}\n{p.read_text(errors='replace')[-3000:]}" for p in logs)

    # -- the sample app ------------------------------------------------------------
    def commit(self, version: str) -> str:
        sha = self.git.commit(
            {
                "Dockerfile": DOCKERFILE,
                "start.sh": START.replace("VERSION", version),
                "totem.yml": TOTEM_YML.format(nodes=self.nodes, host=self.host),
            },
            f"version {version}",
        )
        self.git.push(self.ref)
        self.commits[version] = sha
        return sha

    def deploy(self, version: str, timeout: float = 120) -> dict:
        """Commit, build through the image factory, let the pipeline deploy it; the settled deployment."""
        sha = self.commit(version)
        answer = requests.post(
            self.urls["image_factory"] + "/builds",
            timeout=10,
            json={"owner": self.owner, "repo": self.repo, "ref": self.ref, "commit": sha},
            headers={"Authorization": f"Bearer {TOKEN}"},
        )
        assert answer.status_code in (200, 202), answer.text
        return self.wait_version(sha[:12], timeout)

    def push_webhooks(
        self, before: str, after: str, to: tuple[str, ...] = ("image_factory", "orchestrator")
    ) -> dict[str, str]:
        """Deliver the GitHub push of `before`..`after` to the services `to` as the demo's post-receive
        hook does (its sender, retries included); what each answered."""
        payload = github_push.push_payload(
            self.git.bare, self.owner, self.repo, before, after, f"refs/heads/{self.ref}"
        )
        return {name: post_receive.deliver(f"{self.urls[name]}/hooks/github", SECRET, "push", payload) for name in to}

    def wait_version(self, version: str, timeout: float = 120) -> dict:
        def settled():
            app = self.api("deployer", f"/apps/{self.app}")
            found = [d for d in app.get("deployments", []) if d["version"] == version] if app else []
            return found[0] if found and found[0]["state"] in SETTLED else None

        try:
            return wait(settled, timeout, 0.3, what=f"{self.app} {version} settled")
        except WaitTimeout:
            raise AssertionError(f"{version} did not settle\n{self.logs()}") from None

    def api(self, service: str, path: str) -> dict | None:
        response = requests.get(self.urls[service] + path, timeout=10)
        return response.json() if response.ok else None

    def served(self) -> str:
        response = self.proxy.get(self.host)
        return response.text.strip() if response.status_code == 200 else f"HTTP {response.status_code}"


def _quietly(call, *args, **kwargs) -> None:
    try:
        call(*args, **kwargs)
    except Exception:  # already gone
        pass


@contextlib.contextmanager
def v2_live(env: dict[str, str] | None = None) -> Iterator[FullStack]:
    """The whole stack with v1 then v2 deployed: v2 live, v1 to roll back to; stopped afterwards."""
    stack = FullStack(env=env).start()
    try:
        stack.deploy("v1")
        live = stack.deploy("v2")
        assert live["state"] == "PROMOTED", stack.logs()
        yield stack
    finally:
        stack.stop()
