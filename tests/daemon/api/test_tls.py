"""TLS: with tls_cert/tls_key configured the server speaks TLS only."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

import grpc
import pytest
from api_fixtures import start_server
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from makersync.clients.client import MakersyncClient, MakersyncError


def self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_tls_server_answers_tls_clients_only(tmp_path: Path):
    cert, key = self_signed(tmp_path)
    for api in start_server(tmp_path, f'[server]\ntls_cert = "{cert}"\ntls_key = "{key}"\n'):
        creds = grpc.ssl_channel_credentials(root_certificates=cert.read_bytes())
        with MakersyncClient(f"localhost:{api.port}", credentials=creds) as client:
            assert client.health() == "SERVING"
            assert client.list_accounts().accounts == []
        with MakersyncClient(f"localhost:{api.port}", timeout_s=2) as plain, pytest.raises(MakersyncError) as info:
            plain.list_accounts()
        assert info.value.code == grpc.StatusCode.UNAVAILABLE
