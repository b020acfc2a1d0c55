"""Declared settings: each field read from its variable, converted by its type, refused with the variable named."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

import pytest

from deployer.settings import DeployerSettings
from image_factory.settings import ImageFactorySettings
from orchestrator.settings import OrchestratorSettings
from totem.settings import EnvSettings, Settings, SettingsError, key_prefix, nonblank, setting
from yoda_proxy.settings import ProxySettings


@dataclass(frozen=True)
class Sample(EnvSettings):
    count: int = setting("X_COUNT", 3, minimum=0, floor=1)
    ratio: float = setting("X_RATIO", 0.5)
    verbose: bool = setting("X_VERBOSE", False)
    names: tuple[str, ...] = setting("X_NAMES", ("a",))
    root: Path = setting("X_ROOT", Path("/srv"))
    prefix: str = setting("X_PREFIX", "/p", parse=key_prefix)
    label: str = setting("X_LABEL", "plain")
    queue: str = setting("X_QUEUE", "q", parse=nonblank())
    token: str | None = setting("X_TOKEN", None, secret=True)
    cache: Path = setting("X_CACHE", Path("/tmp"), default_from=lambda env: Path(env.get("X_HOME", "/h")) / "cache")
    flag_only: str = "not read from the environment"


def test_unset_variables_leave_the_defaults():
    sample = Sample.from_env({})
    assert (sample.count, sample.ratio, sample.verbose, sample.names) == (3, 0.5, False, ("a",))
    assert (sample.root, sample.prefix, sample.label) == (Path("/srv"), "/p", "plain")
    assert (sample.queue, sample.token) == ("q", None)
    assert sample.cache == Path("/h/cache")


def test_values_are_converted_by_type_or_parser():
    sample = Sample.from_env(
        {
            "X_COUNT": "7",
            "X_RATIO": "2",
            "X_VERBOSE": "yes",
            "X_NAMES": " b , ,c ",
            "X_ROOT": "~/r",
            "X_PREFIX": "deep/er/",
            "X_LABEL": "",
            "X_QUEUE": "",
            "X_TOKEN": "",
            "X_HOME": "/home/x",
        }
    )
    assert (sample.count, sample.ratio, sample.verbose, sample.names) == (7, 2.0, True, ("b", "c"))
    assert sample.root == Path("~/r").expanduser() and sample.prefix == "/deep/er"
    assert (sample.label, sample.queue, sample.token) == ("", "q", None)  # blank: kept, default, None
    assert sample.cache == Path("/home/x/cache")


def test_bounds_refuse_or_raise_values():
    assert Sample.from_env({"X_COUNT": "0"}).count == 1  # floor
    assert Sample.from_env({"X_COUNT": ""}).count == 3  # blank number: the default
    with pytest.raises(SettingsError, match=r"^X_COUNT must be at least 0 \(got -1\)$"):
        Sample.from_env({"X_COUNT": "-1"})


@pytest.mark.parametrize(
    "cls, environ, message",
    [
        (Sample, {"X_COUNT": "soon"}, "X_COUNT must be a whole number (got 'soon')"),
        (Sample, {"X_RATIO": "half"}, "X_RATIO must be a number (got 'half')"),
        (OrchestratorSettings, {"TOTEM_JOB_TTL": "soon"}, "TOTEM_JOB_TTL must be a whole number (got 'soon')"),
        (
            DeployerSettings,
            {"TOTEM_DEPLOYER_PORTS": "9-5"},
            "TOTEM_DEPLOYER_PORTS must look like 20000-29999 (got '9-5')",
        ),
        (DeployerSettings, {"TOTEM_DEPLOYER_DRAIN": "x"}, "TOTEM_DEPLOYER_DRAIN must be a number (got 'x')"),
        (ImageFactorySettings, {"TOTEM_BUILD_TIMEOUT": "-5"}, "TOTEM_BUILD_TIMEOUT must be at least 0 (got -5)"),
    ],
)
def test_refusals_name_the_variable_and_the_value(cls, environ, message):
    with pytest.raises(SettingsError) as refused:
        cls.from_env(environ)
    assert str(refused.value) == message


def test_given_values_win_over_the_environment_and_secrets_stay_out_of_repr():
    sample = Sample.from_env({"X_COUNT": "7", "X_TOKEN": "tok-s3cret"}, count=9, flag_only="flag")
    assert (sample.count, sample.flag_only) == (9, "flag") and "tok-s3cret" not in repr(sample)
    assert Sample.read("count", {"X_COUNT": "5"}) == 5


def test_service_settings_keep_their_special_cases():
    deployer = DeployerSettings.from_env(
        {"TOTEM_DEPLOYER_PORTS": "31000-31999", "TOTEM_DOCKER_HOSTS": "a, b", "TOTEM_DEPLOYER_PREFIX": "x/y/"}
    )
    assert (deployer.port_min, deployer.port_max, deployer.docker_hosts, deployer.prefix) == (
        31000,
        31999,
        ("a", "b"),
        "/x/y",
    )
    assert OrchestratorSettings.from_env({"TOTEM_DEPLOY_ATTEMPTS": "0"}).deploy_attempts == 1
    factory = ImageFactorySettings.from_env(
        {"TOTEM_IMAGE_FACTORY_CLEANUP_INTERVAL": "5", "TOTEM_IMAGE_FACTORY_QUEUE": "", "TOTEM_HOME": "/srv/t"}
    )
    assert (factory.cleanup_interval, factory.queue, factory.workdir) == (
        60,
        "image_factory",
        Path("/srv/t/image_factory"),
    )
    proxy = ProxySettings.from_env({"YODA_NODE": "", "YODA_ADMIN_PASSWORD": "pw"}, base="/b")
    assert proxy.node and proxy.admin_password == "pw" and proxy.base == "/b"


def test_every_settings_class_is_named_and_declared_alike():
    for cls in (Settings, OrchestratorSettings, DeployerSettings, ImageFactorySettings, ProxySettings):
        assert cls.__name__.endswith("Settings") and issubclass(cls, EnvSettings)
        variables = [f.metadata["totem.setting"].name for f in dataclasses.fields(cls) if f.metadata]
        assert variables and len(variables) == len(set(variables))


def test_a_secret_may_come_from_a_file_the_way_swarm_secrets_are_mounted(tmp_path):
    secret = tmp_path / "x_token"
    secret.write_text("tok-from-file\n")
    assert Sample.from_env({"X_TOKEN_FILE": str(secret)}).token == "tok-from-file"
    with pytest.raises(SettingsError, match="set X_TOKEN or X_TOKEN_FILE, not both"):
        Sample.from_env({"X_TOKEN_FILE": str(secret), "X_TOKEN": "other"})
    with pytest.raises(SettingsError, match="X_TOKEN_FILE cannot be read"):
        Sample.from_env({"X_TOKEN_FILE": str(tmp_path / "missing")})
    assert Sample.from_env({"X_LABEL_FILE": str(secret)}).label == "plain"  # only secrets read files
    shared = Settings.from_env({"TOTEM_API_TOKEN_FILE": str(secret)})
    assert shared.api_token == "tok-from-file"
