import pytest

from totem.settings import Settings, SettingsError, load_or_exit


def test_defaults_match_the_design_brief():
    settings = Settings.from_env({})
    assert settings.etcd_url == "etcd://127.0.0.1:2379"
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.env, settings.cluster, settings.scheduler) == ("local", "local", "docker")
    assert settings.registry == "127.0.0.1:5000"
    assert settings.yoda_base == "/yoda"
    assert settings.hook_secret is None and settings.api_token is None
    assert settings.config_providers == ("repo", "etcd", "default")


def test_values_are_read_and_normalised():
    settings = Settings.from_env(
        {
            "TOTEM_ETCD_URL": "etcd2://10.0.0.1:4001",
            "YODA_BASE": "custom/yoda/",
            "TOTEM_CONFIG_PROVIDERS": " etcd , default ",
            "TOTEM_INSECURE_DEV": "true",
            "TOTEM_HOME": "/tmp/x",
        }
    )
    assert settings.etcd_url == "etcd2://10.0.0.1:4001"
    assert settings.yoda_base == "/custom/yoda"
    assert settings.config_providers == ("etcd", "default")
    assert settings.insecure_dev is True
    assert str(settings.home) == "/tmp/x"


@pytest.mark.parametrize(
    "name,value",
    [
        ("TOTEM_ETCD_URL", "mysql://x"),
        ("TOTEM_REDIS_URL", "http://x"),
        ("TOTEM_SCHEDULER", "kubernetes"),
        ("TOTEM_GIT_URL_TEMPLATE", "https://x/{owner}.git"),
    ],
)
def test_malformed_values_are_refused_with_the_variable_named(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_hook_receivers_need_a_secret_unless_insecure_dev():
    with pytest.raises(SettingsError, match="set TOTEM_HOOK_SECRET"):
        Settings.from_env({}).require_hook_secret("orchestrator")
    assert Settings.from_env({"TOTEM_INSECURE_DEV": "1"}).require_hook_secret("x") is None
    assert Settings.from_env({"TOTEM_HOOK_SECRET": "s3cret"}).require_hook_secret("x") == "s3cret"


def test_secrets_stay_out_of_repr():
    settings = Settings.from_env({"TOTEM_HOOK_SECRET": "hook-s3cret", "TOTEM_API_TOKEN": "tok-s3cret"})
    assert "s3cret" not in repr(settings)


def test_entry_point_exits_with_one_line(monkeypatch, capsys):
    monkeypatch.delenv("TOTEM_HOOK_SECRET", raising=False)
    monkeypatch.delenv("TOTEM_INSECURE_DEV", raising=False)
    with pytest.raises(SystemExit) as exit_info:
        load_or_exit("orchestrator", receives_hooks=True)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "TOTEM_HOOK_SECRET" in err
