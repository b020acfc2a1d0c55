"""The `build:` section of a repository's totem.yml."""

from pathlib import Path

import pytest

from image_factory.repo_config import RepoConfigError, build_options


def repo(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_defaults_without_totem_yml(tmp_path):
    options = build_options(repo(tmp_path, {"Dockerfile": "FROM scratch\n"}))
    assert (options.context, options.dockerfile) == (tmp_path.resolve(), "Dockerfile")
    assert (options.args, options.target) == ({}, None)


def test_dockerfile_args_target_and_context(tmp_path):
    options = build_options(
        repo(
            tmp_path,
            {
                "app/docker/App.dockerfile": "FROM scratch\n",
                "totem.yml": "build:\n  context: app\n  dockerfile: app/docker/App.dockerfile\n  target: final\n"
                "  args: {VERSION: 1.2, DEBUG: false, NAME: x}\n",
            },
        )
    )
    assert options.context == (tmp_path / "app").resolve()
    assert options.dockerfile == "docker/App.dockerfile"
    assert options.args == {"VERSION": "1.2", "DEBUG": "false", "NAME": "x"} and options.target == "final"


def test_a_dockerfile_outside_the_context_is_passed_by_path(tmp_path):
    options = build_options(
        repo(
            tmp_path,
            {
                "Dockerfile.app": "FROM scratch\n",
                "src/x": "",
                "totem.yml": "build: {context: src, dockerfile: Dockerfile.app}\n",
            },
        )
    )
    assert options.dockerfile == str((tmp_path / "Dockerfile.app").resolve())


@pytest.mark.parametrize(
    "files, message",
    [
        ({"totem.yml": "build: {dockerfile: ../../etc/passwd}\n"}, "inside the repository"),
        ({"totem.yml": "build: {context: /}\n", "Dockerfile": ""}, "inside the repository"),
        ({"totem.yml": "build: {target: '$(id)'}\n", "Dockerfile": ""}, "build.target"),
        ({"totem.yml": "build: {args: {A: [1]}}\n", "Dockerfile": ""}, "build.args.A"),
        ({"totem.yml": "build: [1]\n", "Dockerfile": ""}, "build.(root)"),
        ({"totem.yml": "build: {dockerfile: x\n"}, "not valid YAML"),
        ({"totem.yml": "deploy: {}\n"}, "no Dockerfile"),
    ],
)
def test_bad_build_sections_are_refused_clearly(tmp_path, files, message):
    with pytest.raises(RepoConfigError, match=message.replace("(", r"\(").replace(")", r"\)").replace("$", r"\$")):
        build_options(repo(tmp_path, files))
