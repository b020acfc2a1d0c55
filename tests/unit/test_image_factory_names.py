"""Image names and tags derived from git names are always valid Docker references."""

import re

from hypothesis import given
from hypothesis import strategies as st

from image_factory.names import image_tags, repository
from totem.git_names import is_owner, is_ref, is_repo

# Docker's reference grammar for one path component, and for a tag
COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*$")
TAG = re.compile(r"^[\w][\w.-]{0,127}$")

owners = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,20}[A-Za-z0-9_]\Z").filter(is_owner)
repos = st.from_regex(r"\A[A-Za-z0-9_.-]{1,30}\Z").filter(is_repo)
refs = st.from_regex(r"\A[A-Za-z0-9_.+/-]{1,40}\Z").filter(is_ref)


def test_examples():
    assert repository("Acme", "Hello.World") == "acme-hello.world"
    assert repository("a_b", "x__y") == "a_b-x__y"
    assert repository("acme", "weird._-name") == "acme-weird-name"
    assert image_tags("127.0.0.1:5000", "acme", "hello", "feature/Login", "a" * 40) == (
        "127.0.0.1:5000/acme-hello:" + "a" * 40,
        "127.0.0.1:5000/acme-hello:feature-login",
    )


@given(owners, repos, refs)
def test_every_valid_git_name_gives_a_valid_image_reference(owner, repo, ref):
    commit_tag, ref_tag = image_tags("127.0.0.1:5000", owner, repo, ref, "f" * 40)
    name, _, tag = ref_tag.rpartition(":")
    assert COMPONENT.match(name.split("/", 1)[1]) and TAG.match(tag)
    assert commit_tag == f"{name}:{'f' * 40}"
