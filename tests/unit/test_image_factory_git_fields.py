"""The git-name patterns the image factory publishes say what it checks: they agree with
totem.git_names' checks, in Python's regular expressions and in JavaScript's (what an OpenAPI
client checks them with), trailing newlines included."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from image_factory.git_fields import FIELDS, PATTERNS, check_git, is_valid
from image_factory.records import BUILD_ID_PATTERN, is_build_id, new_build_id
from totem.api import ApiError
from totem.git_names import CHECKS

# the characters the checks treat specially, some they refuse, and a newline
ALPHABET = "aZ09_.-+/\nlock;é☃ "
NAMES = st.text(alphabet=ALPHABET, max_size=12) | st.sampled_from(
    ["a" * n for n in (39, 40, 41, 99, 100, 101, 200, 201)]
)
SAMPLES = [
    "",
    ".",
    "..",
    "a",
    "-a",
    "a-",
    "a_",
    "a.",
    ".a",
    "a..b",
    "a.b",
    "a/b",
    "a//b",
    "/a",
    "a/",
    "a/.b",
    "a/-b",
    "x.lock",
    "x.lock/y",
    "v1.2+build",
    "feature/login/v2",
    "a" * 40,
    "f" * 40,
    "A" * 40,
    "main\n",
    "a\n/b",
    "a" * 100,
    "a" * 101,
    "a" * 200,
    "a" * 201,
    "ｏｗｎｅｒ",
    "$(id)",
    "app;id",
]


def matches(field: str, value: str) -> bool:
    return re.fullmatch(PATTERNS[field], value) is not None


@pytest.mark.parametrize("field", FIELDS)
@settings(max_examples=500, deadline=None)
@given(value=NAMES)
def test_each_pattern_accepts_what_the_check_accepts(field, value):
    assert matches(field, value) == CHECKS[field](value)
    assert is_valid(field, value) == matches(field, value)


@pytest.mark.parametrize("field", FIELDS)
def test_the_patterns_agree_on_the_edge_cases(field):
    for value in SAMPLES:
        assert matches(field, value) == CHECKS[field](value), (field, value)


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_reads_the_patterns_as_python_does():
    script = (
        "const [patterns, values] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const out = {};"
        "for (const k in patterns) { const r = new RegExp(patterns[k], 'u'); out[k] = values.map(v => r.test(v)); }"
        "console.log(JSON.stringify(out));"
    )
    patterns = {**PATTERNS, "build_id": BUILD_ID_PATTERN}
    values = [*SAMPLES, "b" + "0" * 9, "b" + "0" * 39, "b" + "0" * 40, "b0123456789\n"]
    found = subprocess.run(
        ["node", "-e", script], input=json.dumps([patterns, values]), capture_output=True, text=True, check=True
    )
    in_javascript = json.loads(found.stdout)
    for name, pattern in patterns.items():
        assert in_javascript[name] == [re.fullmatch(pattern, v) is not None for v in values], name


def test_a_trailing_newline_is_refused():
    git = {"owner": "acme", "repo": "app", "ref": "main", "commit": "a" * 40}
    assert check_git(git) is git
    for field, value in (("commit", "a" * 40 + "\n"), ("ref", "main\n"), ("owner", "acme\n"), ("repo", "app\n")):
        assert not matches(field, value)  # Python's `$` alone would match before a final newline
        with pytest.raises(ApiError) as refused:
            check_git({**git, field: value})
        assert (refused.value.status, refused.value.code) == (400, "invalid_git_name")
        assert refused.value.details == {"field": f"git.{field}"}


def test_build_ids_are_what_their_pattern_says():
    assert all(is_build_id(new_build_id()) for _ in range(100))
    for value in ["b" + "0" * 9, "b" + "f" * 39, "b" + "0" * 8, "b" + "0" * 40, "B0123456789", "b0123456789\n", ""]:
        assert is_build_id(value) == (re.fullmatch(BUILD_ID_PATTERN, value) is not None)
    assert not is_build_id("b0123456789\n") and not is_build_id("b" + "0" * 40)
