"""`totem config validate`: evaluated config on stdout, or key-path errors and exit 2; and secret masking."""

from __future__ import annotations

import argparse

import yaml

from orchestrator import config_cli
from orchestrator.api.mask import mask


def run(argv):
    parser = argparse.ArgumentParser(prog="totem")
    config_cli.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return args.handler(args)


def test_valid_file_prints_the_evaluated_config(tmp_path, capsys):
    path = tmp_path / "totem.yml"
    path.write_text("environment:\n  HOST:\n    value: '{{ repo }}.{{ ref }}.localhost'\n")
    assert run(["config", "validate", "--owner", "acme", "--repo", "shop", "--ref", "dev", str(path)]) == 0
    printed = yaml.safe_load(capsys.readouterr().out)
    assert printed["environment"]["HOST"] == "shop.dev.localhost"
    assert printed["deployers"]["default"]["deployment"]["name"] == "acme-shop-dev"


def test_invalid_file_prints_each_error_with_its_key_path(tmp_path, capsys):
    path = tmp_path / "totem.yml"
    path.write_text("deployers:\n  default:\n    deployment:\n      nodes: 99\n      mode: rainbow\n")
    assert run(["config", "validate", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith("deployers.default.deployment.nodes:") for line in err)
    assert any(line.startswith("deployers.default.deployment.mode:") for line in err)


def test_every_template_error_is_a_path_and_reason_line_and_exit_2(tmp_path, capsys):
    """2015 let a template's TypeError or sandbox refusal out as a traceback; each is one line here."""
    path = tmp_path / "totem.yml"
    path.write_text(
        "environment:\n"
        "  A: {value: '{{ unclosed'}\n"
        "  B: {value: '{{ nothing() }}'}\n"
        "  C: {value: \"{{ ''.__class__.__mro__ }}\"}\n"
        "  D: {value: '{{ 1 + \"x\" }}'}\n"
    )
    assert run(["config", "validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert sorted(line.split(":")[0] for line in err.splitlines()) == [f"environment.{k}" for k in "ABCD"]


def test_validate_drops_the_builtin_deployer_when_the_file_names_its_own(tmp_path, capsys):
    """As the loader does (2015: only the deployers the config names deploy)."""
    path = tmp_path / "totem.yml"
    path.write_text("deployers:\n  east:\n    enabled: true\n    url: http://127.0.0.1:9/east\n")
    assert run(["config", "validate", str(path)]) == 0
    assert set(yaml.safe_load(capsys.readouterr().out)["deployers"]) == {"east"}


def test_validate_reads_apps_enabled_by_default(tmp_path, capsys, monkeypatch):
    path = tmp_path / "totem.yml"
    path.write_text("{}\n")
    monkeypatch.setenv("TOTEM_APPS_ENABLED_BY_DEFAULT", "no")
    assert run(["config", "validate", str(path)]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["enabled"] is False
    monkeypatch.setenv("TOTEM_APPS_ENABLED_BY_DEFAULT", "maybe")
    assert run(["config", "validate", str(path)]) == 2
    assert "TOTEM_APPS_ENABLED_BY_DEFAULT" in capsys.readouterr().err


def test_unreadable_file_is_exit_2(tmp_path, capsys):
    assert run(["config", "validate", str(tmp_path / "missing.yml")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_mask_hides_encrypted_values_and_secret_keys():
    config = {"environment": {"DB_PASSWORD": "plain", "KEY": {"value": "enc", "encrypted": True}, "HOST": "h"}}
    assert mask(config) == {
        "environment": {"DB_PASSWORD": "***", "KEY": {"value": "***", "encrypted": True}, "HOST": "h"}
    }
