"""The rig's small CA: a server certificate per engine (its address as IP SAN) and a client
certificate per engine, laid out as TOTEM_DOCKER_CERTS expects: client/<address>/{ca,cert,key}.pem.
Keys are written 0600. Existing files signed by the current CA are kept."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from yoda_proxy.certs import write_private

DAYS = 365
_PEM = serialization.Encoding.PEM


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(_PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()


def _builder(subject: str, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=DAYS))
    )


class Authority:
    """ca.pem and ca-key.pem in `root`, made on first use."""

    def __init__(self, root: Path, common_name: str = "totem-cluster-ca"):
        self.root = root
        self.cert_path, self.key_path = root / "ca.pem", root / "ca-key.pem"
        if not (self.cert_path.exists() and self.key_path.exists()):
            key = ec.generate_private_key(ec.SECP256R1())
            cert = (
                _builder(common_name, _name(common_name), key.public_key())
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(_usage(cert_sign=True), critical=True)
                .sign(key, hashes.SHA256())
            )
            write_private(self.key_path, _key_pem(key))
            self.cert_path.write_text(cert.public_bytes(_PEM).decode())
        self.cert = x509.load_pem_x509_certificate(self.cert_path.read_bytes())
        loaded = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        self.key = loaded

    def issue(self, directory: Path, common_name: str, server_ip: str | None = None) -> Path:
        """cert.pem, key.pem and ca.pem in `directory`: a server certificate for `server_ip`, or a
        client certificate when it is None. Kept when already signed by this CA."""
        cert_path = directory / "cert.pem"
        if cert_path.exists() and (directory / "key.pem").exists() and self._signed(cert_path):
            return directory
        key = ec.generate_private_key(ec.SECP256R1())
        purpose = ExtendedKeyUsageOID.SERVER_AUTH if server_ip else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = (
            _builder(common_name, self.cert.subject, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(_usage(cert_sign=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([purpose]), critical=False)
        )
        if server_ip:
            san = x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(server_ip))])
            builder = builder.add_extension(san, critical=False)
        write_private(directory / "key.pem", _key_pem(key))
        cert_path.write_text(builder.sign(self.key, hashes.SHA256()).public_bytes(_PEM).decode())
        (directory / "ca.pem").write_text(self.cert_path.read_text())
        return directory

    def _signed(self, path: Path) -> bool:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        try:
            cert.verify_directly_issued_by(self.cert)
        except Exception:  # another CA's, or a broken file: issue it again
            return False
        return True


def _usage(cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not cert_sign,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def ensure(root: Path, hosts: list[tuple[str, str]]) -> Authority:
    """The CA plus, per (name, address): server/<name>/ and client/<address>/."""
    ca = Authority(root)
    for name, address in hosts:
        ca.issue(root / "server" / name, address, server_ip=address)
        ca.issue(root / "client" / address, f"client-{name}")
    return ca
