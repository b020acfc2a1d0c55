"""Orchestrator settings: defaults, parsing, and refusing unusable values."""

from __future__ import annotations

import pytest

from orchestrator.settings import OrchestratorSettings
from tests.unit.test_orchestrator_payloads import TravisKey
from totem.settings import Settings, SettingsError


def test_defaults_and_overrides():
    assert OrchestratorSettings.from_env({}).job_ttl == 2 * 24 * 3600
    options = OrchestratorSettings.from_env({"TOTEM_JOB_TTL": "60", "TOTEM_CONFIG_ETCD_PREFIX": "cfg/"})
    assert (options.job_ttl, options.config_etcd_prefix) == (60, "/cfg")
    github = Settings.from_env({"TOTEM_GITHUB_API_URL": "http://127.0.0.1:1/api/"})
    assert github.github_api_url == "http://127.0.0.1:1/api"


def test_hooks_and_deploy_requests_outlast_a_short_outage_and_no_job_waits_forever():
    from totem.signed_post import window

    options = OrchestratorSettings.from_env({})
    assert window(options.deploy_attempts, options.deploy_backoff) >= 120  # deployer restarts, Redis outages
    assert (options.hook_grace, options.hook_deadline, options.hook_check_interval) == (60, 1800, 30)
    with pytest.raises(SettingsError, match="TOTEM_HOOK_DEADLINE"):
        OrchestratorSettings.from_env({"TOTEM_HOOK_DEADLINE": "-1"})


def test_secrets_stay_out_of_repr():
    options = OrchestratorSettings.from_env({"TOTEM_TRAVIS_PUBLIC_KEY": "-----BEGIN PUBLIC KEY-----"})
    assert "BEGIN PUBLIC KEY" not in repr(options)
    assert "ghp-secret-value" not in repr(Settings.from_env({"TOTEM_GITHUB_TOKEN": "ghp-secret-value"}))


@pytest.mark.parametrize(
    "environ, providers",
    [
        ({"TOTEM_JOB_TTL": "soon"}, ("default",)),
        ({}, ("repo", "nope")),
        ({"TOTEM_TRAVIS_PUBLIC_KEY": "not a key"}, ("default",)),
    ],
)
def test_unusable_settings_are_refused(environ, providers):
    with pytest.raises(SettingsError):
        OrchestratorSettings.from_env(environ).validate(providers)


def test_a_pem_public_key_is_accepted():
    OrchestratorSettings.from_env({"TOTEM_TRAVIS_PUBLIC_KEY": TravisKey().public_pem}).validate(("etcd", "s3"))
