"""The git names (totem.git_names): what each pattern accepts and refuses, that JavaScript (what an
OpenAPI or JSON Schema client checks them with) reads the patterns as Python's `fullmatch` does,
trailing newlines included, and the schema every document publishes for them."""

from __future__ import annotations

import json
import random
import re
import shutil
import subprocess

import pytest
from jsonschema import Draft202012Validator

from image_factory.records import BUILD_ID_PATTERN
from orchestrator.api.openapi import JOB_ID_PATTERN
from totem.api import ApiError
from totem.contracts.deploy_request import DEPLOYMENT_ID_PATTERN, NAME_PATTERN, VERSION_PATTERN
from totem.git_names import (
    CHECKS,
    FIELDS,
    MAX_LENGTHS,
    PATTERNS,
    is_commit,
    is_owner,
    is_ref,
    is_repo,
    ref_slug,
    schema,
    validate_git,
)

SHA = "a" * 40
GIT = {"owner": "acme", "repo": "shop", "ref": "main", "commit": SHA}


@pytest.mark.parametrize(
    "ref", ["main", "feature/login", "release-1.2", "v1.0.0", "a/b/c", "x_y+z", "a.b/c", "r" * 200]
)
def test_refs_git_allows(ref):
    assert is_ref(ref)


@pytest.mark.parametrize(
    "ref",
    [
        "",
        "-rf",
        "/abs",
        "a/../b",
        "a..b",
        "a//b",
        "a/",
        "a.",
        "a/b.",
        "x.lock",
        "x.lock/y.lock",
        ".hidden",
        "a/.b",
        "semi;colon",
        "sp ace",
        "$(id)",
        "a\nb",
        "main\n",
        "ü",
        "x" * 201,
    ],
)
def test_refs_git_refuses(ref):
    assert not is_ref(ref)


def test_owners_repos_and_commits():
    assert is_owner("acme-corp") and is_owner("a_b.c") and is_owner("a_") and is_owner("a" * 100)
    assert not any(map(is_owner, ["", "-acme", "_a", "acme.", "acme-", "ac..me", "a/b", "ｏｗｎｅｒ", "a" * 101]))
    assert is_repo("hello.world") and is_repo("shop.git") and is_repo("-x") and is_repo("r" * 100)
    assert not any(map(is_repo, ["", ".", "..", "a..b", "a b", "x/y", "r" * 101]))
    assert is_commit(SHA) and not is_commit("A" * 40) and not is_commit("abc") and not is_commit("a" * 41)
    assert not any(check(value + "\n") for check, value in zip(CHECKS.values(), GIT.values(), strict=True))
    assert not any(check(value) for check in CHECKS.values() for value in (None, 7, ["main"], b"main"))
    assert ref_slug("feature/Login_x") == "feature-login-x" and ref_slug("///") == "ref"


def test_validate_git_names_the_first_bad_field():
    assert validate_git(GIT) is GIT
    assert validate_git({"owner": "acme", "repo": "shop", "ref": "main"}, ("owner", "repo", "ref"))
    for field in FIELDS:
        with pytest.raises(ApiError) as refused:
            validate_git({**GIT, field: GIT[field] + "\n"})
        assert (refused.value.status, refused.value.code) == (400, "invalid_git_name")
        assert refused.value.details == {"field": f"git.{field}"}


def test_the_schema_of_a_name_says_what_its_check_accepts():
    names = ["main", "feature/login", "a..b", "-x", ".", SHA, SHA.upper(), ""]
    for field in FIELDS:
        published = schema(field)
        assert published["type"] == "string" and published["pattern"] == PATTERNS[field] and published["description"]
        longest = MAX_LENGTHS[field]  # the pattern's own limit: a longer name is refused either way
        filler = "a" if field != "ref" else "r"
        assert CHECKS[field](filler * longest) and not CHECKS[field](filler * (longest + 1))
        validator = Draft202012Validator(published)
        for name in [*names, filler * longest, filler * (longest + 1)]:
            assert validator.is_valid(name) == CHECKS[field](name), (field, name)


# the characters the patterns treat specially, some they refuse, and line ends
ALPHABET = "aZ09_.-+/\nlock;é☃ \r"
SAMPLES = [
    *("", ".", "..", "a", "-a", "a-", "a_", "a.", ".a", "a..b", "a.b", "a/b", "a//b", "/a", "a/", "a/.b", "a/-b"),
    *(
        "x.lock",
        "x.lock/y",
        "v1.2+build",
        "feature/login/v2",
        "main\n",
        "a\n/b",
        "a\r",
        "ｏｗｎｅｒ",
        "$(id)",
        "app;id",
    ),
    *("a" * n for n in (39, 40, 41, 99, 100, 101, 200, 201)),
    *("f" * 40, "A" * 40, "b" + "0" * 9, "b" + "0" * 39, "b" + "0" * 40, "b0123456789\n"),
]


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed")
def test_javascript_reads_the_published_patterns_as_python_does():
    script = (
        "const [patterns, values] = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
        "const out = {};"
        "for (const k in patterns) { const r = new RegExp(patterns[k], 'u'); out[k] = values.map(v => r.test(v)); }"
        "console.log(JSON.stringify(out));"
    )
    patterns = {
        **PATTERNS,
        "build_id": BUILD_ID_PATTERN,
        "job_id": JOB_ID_PATTERN,
        "app": NAME_PATTERN,
        "version": VERSION_PATTERN,
        "deployment_id": DEPLOYMENT_ID_PATTERN,
    }
    pick = random.Random(2015)
    names = ["".join(pick.choices(ALPHABET, k=pick.randrange(14))) for _ in range(3000)]
    values = [*SAMPLES, *names]
    found = subprocess.run(
        ["node", "-e", script], input=json.dumps([patterns, values]), capture_output=True, text=True, check=True
    )
    in_javascript = json.loads(found.stdout)
    for name, pattern in patterns.items():
        in_python = [re.fullmatch(pattern, v) is not None for v in values]
        differ = [v for v, js, py in zip(values, in_javascript[name], in_python, strict=True) if js != py]
        assert differ == [], name
