"""A real engine behind a TLS listener that verifies its clients (dockerd --tlsverify on loopback, a
private one): the deployer reaches it with the client certificates under TOTEM_DOCKER_CERTS and
verifies it in turn (its CA, its name); without them, or with anything else, it does not answer."""

from __future__ import annotations

import dataclasses
import datetime
import ipaddress
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from deployer.engine_pool import EnginePool
from deployer.engines import Access
from tests.private_docker import PrivateDocker
from totem.net import free_port

LOOPBACK = "127.0.0.1"
PEM = serialization.Encoding.PEM


class Authority:
    """A CA that signs leaf certificates into a directory as Docker names them (ca, cert, key .pem)."""

    def __init__(self, name: str):
        self.key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        self.cert = (
            self._builder(subject, self.key.public_key(), subject)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(self.key, hashes.SHA256())
        )

    def _builder(self, subject, public_key, issuer) -> x509.CertificateBuilder:
        now = datetime.datetime.now(datetime.UTC)
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(hours=1))
        )

    def issue(self, folder: Path, name: str, usage, ip: str | None = None) -> Path:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        builder = self._builder(subject, key.public_key(), self.cert.subject)
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        if ip:
            names = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))])
            builder = builder.add_extension(names, critical=False)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "ca.pem").write_bytes(self.cert.public_bytes(PEM))
        (folder / "cert.pem").write_bytes(builder.sign(self.key, hashes.SHA256()).public_bytes(PEM))
        secret = folder / "key.pem"
        secret.touch(mode=0o600)
        secret.write_bytes(key.private_bytes(PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        return folder


class TlsDocker(PrivateDocker):
    """A private engine that also listens on tcp://127.0.0.1:<port> with --tlsverify."""

    def __init__(self, server: Path):
        super().__init__()
        self.port = free_port()
        self.url = f"tcp://{LOOPBACK}:{self.port}"
        tls = (
            "--tlsverify",
            "--tlscacert",
            server / "ca.pem",
            "--tlscert",
            server / "cert.pem",
            "--tlskey",
            server / "key.pem",
        )
        argv = (*self.service.argv, "-H", self.url, *map(str, tls))
        self.service = dataclasses.replace(self.service, argv=argv)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("pki")
    ca, stranger = Authority("totem test CA"), Authority("another CA")
    ca.issue(root / "server", LOOPBACK, ExtendedKeyUsageOID.SERVER_AUTH, ip=LOOPBACK)
    ca.issue(root / "client" / LOOPBACK, "deployer", ExtendedKeyUsageOID.CLIENT_AUTH)  # per host
    ca.issue(root / "by-name" / "localhost", "deployer", ExtendedKeyUsageOID.CLIENT_AUTH)
    stranger.issue(root / "strange-client" / LOOPBACK, "deployer", ExtendedKeyUsageOID.CLIENT_AUTH)
    wrong_ca = ca.issue(root / "wrong-ca" / LOOPBACK, "deployer", ExtendedKeyUsageOID.CLIENT_AUTH)
    (wrong_ca / "ca.pem").write_bytes(stranger.cert.public_bytes(PEM))
    return root


@pytest.fixture(scope="module")
def engine(pki):
    engine = TlsDocker(pki / "server").start()
    yield engine
    engine.stop()


def test_the_client_certificates_of_the_host_reach_it_over_tls(engine, pki):
    pool = EnginePool(Access(certs=str(pki / "client")))
    assert pool.answering([engine.url]) == ([engine.url], [])
    client = pool.client(engine.url)
    assert client.api.base_url == f"https://{LOOPBACK}:{engine.port}"
    assert client.containers.list(all=True) == []  # the engine's own API, over TLS


@pytest.mark.parametrize(
    "certs,url",
    [
        (None, "tcp://{address}:{port}"),  # loopback plain http to a TLS listener
        ("strange-client", "tcp://{address}:{port}"),  # the engine refuses a client of another CA
        ("wrong-ca", "tcp://{address}:{port}"),  # the deployer does not trust the engine's certificate
        ("by-name", "tcp://localhost:{port}"),  # nor under a name its certificate does not give
    ],
)
def test_anything_else_does_not_answer(engine, pki, certs, url):
    url = url.format(address=LOOPBACK, port=engine.port)
    pool = EnginePool(Access(certs=str(pki / certs) if certs else None))
    assert pool.answering([url]) == ([], [url])
