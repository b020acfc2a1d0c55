"""Properties of merging and of hook intake, over generated inputs."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orchestrator.config.merge import deep_merge
from orchestrator.jobs.model import Hook, apply_hook
from orchestrator.states import State

keys = st.sampled_from(["a", "b", "c", "value-x"])
leaves = st.one_of(st.integers(), st.text(max_size=3), st.lists(st.integers(), max_size=2))
trees = st.recursive(leaves, lambda inner: st.dictionaries(keys, inner, max_size=3), max_leaves=8)
configs = st.dictionaries(keys, trees, max_size=3)


def leaf_paths(tree, prefix=()):
    if isinstance(tree, dict):  # an empty dict is no leaf: it merges into what is there
        for key, value in tree.items():
            yield from leaf_paths(value, (*prefix, key))
    else:
        yield prefix, tree


def lookup(tree, path):
    for key in path:
        tree = tree[key]
    return tree


@given(configs, configs)
def test_every_leaf_of_the_override_wins(base, override):
    merged = deep_merge(base, override)
    for path, value in leaf_paths(override):
        if path:
            assert lookup(merged, path) == value


@given(configs)
def test_merging_nothing_changes_nothing(config):
    assert deep_merge(config, {}) == config and deep_merge({}, config) == config


commits = st.sampled_from(["a" * 40, "b" * 40, "c" * 40])
hooks = st.builds(
    lambda commit, kind, status: Hook("o", "r", "m", commit, kind, kind, status),
    commits,
    st.sampled_from(["builder", "ci"]),
    st.sampled_from(["success", "failed", "pending"]),
)


@settings(max_examples=200)
@given(st.lists(hooks, min_size=1, max_size=12))
def test_an_open_job_only_ever_moves_forward_through_commits(sequence):
    job = None
    first_seen: list[str] = []
    for hook in sequence:
        new, outcome = apply_hook(job, hook)
        if hook.commit not in first_seen:
            first_seen.append(hook.commit)
        job = new or job
        assert job["state"] == State.NEW and job["commits"] == first_seen
        assert job["commit"] == first_seen[-1]
        assert all(h.get("status") for h in job["hooks"].values())
        if hook.commit != job["commit"]:
            assert outcome.ignored == "superseded commit" and new is None
