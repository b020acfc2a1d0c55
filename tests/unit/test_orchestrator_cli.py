"""`totem config validate`: evaluated config on stdout, or key-path errors and exit 1; and secret masking."""

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
    assert run(["config", "validate", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert any(line.startswith("deployers.default.deployment.nodes:") for line in err)
    assert any(line.startswith("deployers.default.deployment.mode:") for line in err)


def test_unreadable_file_is_exit_2(tmp_path, capsys):
    assert run(["config", "validate", str(tmp_path / "missing.yml")]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_mask_hides_encrypted_values_and_secret_keys():
    config = {"environment": {"DB_PASSWORD": "plain", "KEY": {"value": "enc", "encrypted": True}, "HOST": "h"}}
    assert mask(config) == {
        "environment": {"DB_PASSWORD": "***", "KEY": {"value": "***", "encrypted": True}, "HOST": "h"}
    }
