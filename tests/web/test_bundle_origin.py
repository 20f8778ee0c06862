"""`votestore web serve`: the voter page's own origin, as a real process on loopback.

It serves only what the built folder's manifest lists (checked at start), each with its MIME
type, a Content-Security-Policy that runs the bundle's bytes alone, and no directory listing;
a folder whose files do not match their manifest is refused before anything is served.
"""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ops.cluster.page import PageProcess
from ops.web.bundle import read_built_page, sri_sha384
from ops.web.origin import PageOrigin
from tests.node.store_kit import GENESIS
from tests.web.bundle_kit import build_page

HOST = "127.0.0.1"
BRIDGE = f"http://{HOST}:7180"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("page") / "dist"
    build_page(folder)
    return folder


@pytest.fixture(scope="module")
def genesis(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chain") / "genesis.json"
    path.write_text(GENESIS.to_json(), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def origin(built: Path, genesis: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with PageProcess(tmp_path_factory.mktemp("origin"), built, BRIDGE, genesis) as page:
        yield page.origin


def test_serves_the_page_with_types_and_a_policy_naming_the_bundle(origin: str, built: Path) -> None:
    bundle = (built / "app.js").read_bytes()
    with httpx.Client(base_url=origin, timeout=10) as client:
        index, script, style = client.get("/"), client.get("/app.js"), client.get("/app.css")
    assert index.status_code == script.status_code == style.status_code == 200
    assert index.content == (built / "index.html").read_bytes()
    assert index.headers["content-type"] == "text/html; charset=utf-8"
    assert script.content == bundle
    assert script.headers["content-type"] == "text/javascript; charset=utf-8"
    assert style.headers["content-type"] == "text/css; charset=utf-8"
    policy = index.headers["content-security-policy"]
    assert f"script-src '{sri_sha384(bundle)}';" in policy
    assert "default-src 'none'" in policy and f"connect-src 'self' {BRIDGE};" in policy
    assert index.headers["x-content-type-options"] == "nosniff"
    assert index.headers["referrer-policy"] == "no-referrer"


def test_config_and_genesis(origin: str, genesis: Path) -> None:
    with httpx.Client(base_url=origin, timeout=10) as client:
        config, served = client.get("/config.json"), client.get("/genesis.json")
    assert config.json() == {"gateway": BRIDGE}
    assert served.content == genesis.read_bytes()
    assert served.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    "path",
    [
        "/manifest.json",
        "/src/",
        "/src/app/main.js",
        "/..%2findex.html",
        "/%2e%2e/etc/passwd",
        "/dist/",
        "/app.js/",
    ],
)
def test_nothing_else_and_no_listing(origin: str, path: str) -> None:
    with httpx.Client(base_url=origin, timeout=10) as client:
        answer = client.get(path)
    assert answer.status_code == 404, path
    assert answer.content == b"not found\n"


def test_get_and_head_only(origin: str) -> None:
    with httpx.Client(base_url=origin, timeout=10) as client:
        assert client.post("/", content=b"x").status_code == 405
        head = client.head("/app.js")
    assert head.status_code == 200 and head.content == b""


def test_a_folder_that_does_not_match_its_manifest_is_refused(
    built: Path, genesis: Path, tmp_path: Path
) -> None:
    changed = tmp_path / "dist"
    changed.mkdir()
    for name in ("app.js", "app.css", "index.html", "manifest.json"):
        (changed / name).write_bytes((built / name).read_bytes())
    data = bytearray((changed / "app.js").read_bytes())
    data[100] ^= 1
    (changed / "app.js").write_bytes(bytes(data))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "votestore",
            "web",
            "serve",
            "--dir",
            str(changed),
            "--listen",
            "127.0.0.1:0",
            "--bridge",
            BRIDGE,
            "--genesis",
            str(genesis),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: {changed / 'app.js'} does not match manifest.json (rebuild: npm run build:page)"
    ]


def _serve_args(built: Path, genesis: Path, listen: str, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "votestore", "web", "serve", "--dir", str(built), "--listen", listen,
        "--bridge", BRIDGE, "--genesis", str(genesis), *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("listen", ["0.0.0.0:0", "192.0.2.7:443"])
def test_plain_http_only_on_loopback(built: Path, genesis: Path, listen: str) -> None:
    done = subprocess.run(
        _serve_args(built, genesis, listen), capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"error: --listen {listen} is not loopback: give --tls-cert and --tls-key "
        "(a page served over plain HTTP can be changed on the wire)"
    ]


def _self_signed(folder: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "page.crt", folder / "page.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_https_with_a_certificate(built: Path, genesis: Path, tmp_path: Path) -> None:
    tls = _self_signed(tmp_path)
    with PageProcess(tmp_path, built, BRIDGE, genesis, tls=tls) as page:
        assert page.origin.startswith("https://")
        with httpx.Client(
            base_url=page.origin, timeout=10, verify=ssl.create_default_context(cafile=tls[0])
        ) as client:
            script = client.get("/app.js")
    assert script.status_code == 200 and script.content == (built / "app.js").read_bytes()


def test_a_certificate_that_does_not_load_is_one_line(built: Path, genesis: Path, tmp_path: Path) -> None:
    cert, key = tmp_path / "bad.crt", tmp_path / "bad.key"
    cert.write_text("not a certificate")
    key.write_text("not a key")
    done = subprocess.run(
        _serve_args(built, genesis, "127.0.0.1:0", "--tls-cert", str(cert), "--tls-key", str(key)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        f"error: TLS certificate {cert} with key {key} does not load"
    )


def test_a_second_page_gets_a_policy_naming_its_own_script(built: Path) -> None:
    """The public pages beside the voter page (web/build/page.mjs's PAGES): their HTML answer's
    CSP names their own script's hash, the voter page's names the bundle's."""
    folder = built
    other = (built / "public.js").read_bytes()
    origin = PageOrigin(read_built_page(folder), BRIDGE, b"{}")

    async def go() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=origin)
        async with httpx.AsyncClient(transport=transport, base_url="http://page") as client:
            return [await client.get(p) for p in ("/public.html", "/", "/public.js")]

    public, index, script = asyncio.run(go())
    assert f"script-src '{sri_sha384(other)}';" in public.headers["content-security-policy"]
    bundle = sri_sha384((built / "app.js").read_bytes())
    assert f"script-src '{bundle}';" in index.headers["content-security-policy"]
    assert script.content == other and script.headers["content-type"] == "text/javascript; charset=utf-8"
