"""Config providers against real sources: etcd, S3 (moto server), a local bare git repo, an HTTP URL."""

from __future__ import annotations

import subprocess
import uuid
from http.server import BaseHTTPRequestHandler

import pytest

from orchestrator.config import Location, load_config
from orchestrator.config.providers.base import Location as BaseLocation
from orchestrator.config.providers.defaults import DefaultProvider
from orchestrator.config.providers.etcd import EtcdProvider
from orchestrator.config.providers.repo import RepoProvider
from orchestrator.config.providers.s3 import S3Provider
from tests.support import serve_http
from totem.store import connect

SHA_LEN = 40


def location(ref="master", commit=None, owner="acme", repo="shop") -> Location:
    return Location("prod", "east", owner, repo, ref, commit)


def test_location_levels_are_least_to_most_specific():
    assert BaseLocation("e", "c", "o", "r", "f/x").levels() == [
        (),
        ("e",),
        ("e", "o"),
        ("e", "o", "r"),
        ("e", "o", "r", "f/x"),
    ]


def test_etcd_hierarchy_with_cluster_def(settings, unique_prefix):
    store = connect(settings.etcd_url)
    prefix = unique_prefix + "config"
    try:
        store.put(f"{prefix}/totem.yml", "environment: {LEVEL: root, ROOT: '1'}")
        store.put(f"{prefix}/prod/cluster-def.yml", "deployers: {east: {url: 'http://127.0.0.1:9/cd', enabled: true}}")
        store.put(f"{prefix}/prod/totem.yml", "deployers: {east: {url: 'http://127.0.0.1:9/env'}}")
        store.put(f"{prefix}/prod/acme/shop/master/totem.yml", "environment: {LEVEL: ref}")
        config, sources = load_config(
            [EtcdProvider(store, prefix), DefaultProvider()], location(), "http://127.0.0.1:9"
        )
        assert config["environment"] == {"LEVEL": "ref", "ROOT": "1"}
        assert config["deployers"]["east"]["url"] == "http://127.0.0.1:9/env"
        assert config["deployers"]["east"]["deployment"]["nodes"] == 1
        assert set(config["deployers"]) == {"east"}  # named in etcd: the built-in `default` is dropped (2015)
        assert sources == [
            "default:totem.yml",
            "etcd:totem.yml",
            "etcd:prod/cluster-def.yml",
            "etcd:prod/totem.yml",
            "etcd:prod/acme/shop/master/totem.yml",
        ]
    finally:
        store.delete_prefix(unique_prefix)


@pytest.fixture
def s3(monkeypatch, settings):
    import boto3

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    endpoint = settings.aws_endpoint_url or "http://127.0.0.1:5001"
    bucket = f"totem-config-{uuid.uuid4().hex[:10]}"
    client = boto3.client("s3", endpoint_url=endpoint)
    client.create_bucket(Bucket=bucket)
    yield client, bucket, endpoint
    for item in client.list_objects_v2(Bucket=bucket).get("Contents", []):
        client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


def test_s3_provider_reads_every_level(s3):
    client, bucket, endpoint = s3
    client.put_object(Bucket=bucket, Key="totem/config/prod/totem.yml", Body=b"environment: {FROM: env, KEEP: x}")
    client.put_object(Bucket=bucket, Key="totem/config/prod/acme/totem.yml", Body=b"environment: {FROM: owner}")
    provider = S3Provider(bucket, "totem/config", endpoint)
    config, _ = load_config([provider, DefaultProvider()], location(), "http://127.0.0.1:9")
    assert config["environment"] == {"FROM": "owner", "KEEP": "x"}
    assert S3Provider(f"missing-{uuid.uuid4().hex[:8]}", "x", endpoint).load(location(), (), "totem.yml") is None


def _git(*args, cwd=None):
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def test_repo_provider_reads_totem_yml_at_the_commit_from_a_bare_repository(tmp_path):
    bare = tmp_path / "git" / "acme" / "shop.git"
    work = tmp_path / "work"
    _git("init", "--bare", "-q", str(bare))
    _git("init", "-q", "-b", "master", str(work))
    (work / "totem.yml").write_text("environment: {VERSION: one}\n")
    _git("-c", "user.name=t", "-c", "user.email=t@t", "add", "totem.yml", cwd=work)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "one", cwd=work)
    first = subprocess.run(["git", "rev-parse", "HEAD"], cwd=work, capture_output=True, text=True).stdout.strip()
    (work / "totem.yml").write_text("environment: {VERSION: two}\n")
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-am", "two", cwd=work)
    _git("push", "-q", str(bare), "master", cwd=work)
    provider = RepoProvider(None, f"file://{tmp_path}/git/{{owner}}/{{repo}}.git")
    assert len(first) == SHA_LEN
    config, _ = load_config([provider, DefaultProvider()], location(commit=first), "http://127.0.0.1:9")
    assert config["environment"] == {"VERSION": "one"}
    config, _ = load_config([provider, DefaultProvider()], location(commit=None), "http://127.0.0.1:9")
    assert config["environment"] == {"VERSION": "two"}
    assert provider.load(location(commit="0" * 40), ("prod", "acme", "shop", "master"), "totem.yml") is None


def test_repo_provider_fetches_from_an_http_url_template():
    served = {"/acme/shop/" + "a" * 40 + "/totem.yml": b"environment: {SOURCE: http}\n"}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = served.get(self.path)
            self.send_response(200 if body else 404)
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    with serve_http(Handler) as base:
        provider = RepoProvider(base + "/{owner}/{repo}/{commit}/totem.yml")
        level = ("prod", "acme", "shop", "master")
        assert provider.load(location(commit="a" * 40), level, "totem.yml") == "environment: {SOURCE: http}\n"
        assert provider.load(location(commit="b" * 40), level, "totem.yml") is None
        assert provider.load(location(commit="a" * 40), level[:3], "totem.yml") is None
