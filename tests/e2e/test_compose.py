"""docker-compose.yml: the whole stack as containers (images built locally from a debootstrap base),
one push of the sample app through it, live behind the stack's own proxy."""

from __future__ import annotations

import pytest

from tests.e2e.compose_stack import PORTS, ComposeStack
from totem.settings import Settings
from totem_demo import follow, layout, sample_repo
from totem_demo.layout import DemoHome

LIVE_TIMEOUT = 240.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = ComposeStack(tmp_path_factory.mktemp("compose"))
    try:
        stack.up()
        yield stack
    finally:
        stack.down()


def test_one_push_is_built_tested_deployed_and_served_by_the_compose_stack(stack, tmp_path):
    settings = Settings.from_env(
        {
            "TOTEM_HOME": str(stack.git_root.parent),
            "TOTEM_ORCHESTRATOR_URL": stack.url("ORCHESTRATOR_PORT"),
            "TOTEM_DEPLOYER_URL": stack.url("DEPLOYER_PORT"),
            "TOTEM_IMAGE_FACTORY_URL": stack.url("IMAGE_FACTORY_PORT"),
        }
    )
    home = DemoHome.of(settings)
    home.secrets.parent.mkdir(parents=True, exist_ok=True)
    home.secrets.write_text("".join(f"{name}={value}\n" for name, value in stack.secrets.items()))
    bare = sample_repo.ensure_remote(home, settings, layout.OWNER, layout.REPO)
    assert bare.parent.parent == stack.git_root
    work = sample_repo.ensure_work_tree(home, bare, layout.REPO, sample_repo.example_dir())
    sample_repo.sync(work, sample_repo.example_dir(), {"VERSION": "compose\n"})
    commit = sample_repo.commit_all(work, "compose")
    sample_repo.push(work, layout.BRANCH)

    proxy = f"127.0.0.1:{PORTS['PROXY_HTTP_PORT']}"
    follower = follow.Follower(settings, layout.OWNER, layout.REPO, layout.BRANCH, commit, proxy=proxy)
    outcome = follower.wait("hello.localhost", "hello from compose", LIVE_TIMEOUT)
    assert outcome.status == "live", f"{outcome.reason}\n{stack.logs()}"
    assert follow.page("hello.localhost", proxy=proxy) == (200, "hello from compose")
    assert outcome.deployment["state"] == "PROMOTED"
