"""Checking out exactly one commit from a real local bare repository, whatever its depth."""

from __future__ import annotations

import pytest

from image_factory.checkout import CheckoutError, checkout, clone_url
from tests.images.image_factory.git_repos import GitRepo
from totem.api import ApiError


@pytest.fixture
def repo(tmp_path):
    repo = GitRepo(tmp_path / "git", "acme", "deep")
    commits = [repo.commit({"version.txt": f"{i}\n"}, busybox=False) for i in range(6)]
    repo.push("main")
    return repo, commits, f"file://{tmp_path / 'git'}/{{owner}}/{{repo}}.git"


def test_an_old_commit_is_checked_out_exactly(repo, tmp_path):
    git, commits, template = repo
    lines = []
    checkout(clone_url(template, "acme", "deep"), commits[1], tmp_path / "out", 60, lines.append)
    assert (tmp_path / "out" / "version.txt").read_text() == "1\n"
    assert any(line.startswith("$ git fetch") for line in lines)


def test_an_unknown_commit_fails_clearly(repo, tmp_path):
    _, _, template = repo
    with pytest.raises(CheckoutError, match="is not in the repository"):
        checkout(clone_url(template, "acme", "deep"), "e" * 40, tmp_path / "out", 60, lambda _: None)


def test_a_missing_repository_fails_clearly(repo, tmp_path):
    _, commits, template = repo
    with pytest.raises(CheckoutError):
        checkout(clone_url(template, "acme", "absent"), commits[0], tmp_path / "out", 60, lambda _: None)


def test_names_are_validated_before_git_runs(repo, tmp_path):
    _, _, template = repo
    with pytest.raises(ApiError):
        clone_url(template, "acme", "../../etc")
    with pytest.raises(ApiError):
        checkout(
            clone_url(template, "acme", "deep"), "--upload-pack=touch /tmp/x", tmp_path / "out", 60, lambda _: None
        )
    assert not (tmp_path / "out").exists()
