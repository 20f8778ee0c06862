"""The voter page's integrity facts, in one place: what the bundle's hashes are, how a built
folder proves it holds what its manifest says, and which script an index.html asks a browser to
run (docs/web.md, "The bundle on the ledger").

What must hold:
- `app_bundle_sha256` is the SHA-256 of the bundle's bytes (web/build/page.mjs writes the same
  into the manifest); the Subresource Integrity string is `sha384-` and the base64 SHA-384 of
  the same bytes — the two must name one file.
- An index.html the page origin serves runs exactly one script: a module with a `src` and an
  `integrity`, and no inline code. Anything else (a second script, an inline one, a missing
  attribute) is refused: an observer's check that only compared the named file could be passed
  by a page that also runs something else.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Final

from votestore.errors import VotestoreError

MANIFEST_FILE: Final = "manifest.json"
MANIFEST_FORMAT: Final = "votestore-web-bundle/v1"
INDEX_FILE: Final = "index.html"
MAX_PAGE_FILE_BYTES: Final = 8 * 1024 * 1024
"""A bound on any one file of the page (the bundle is about 400 kB)."""
MAX_PAGE_FILES: Final = 64


class BundleError(VotestoreError):
    """A built page, a served page or an index.html that does not hold what it must."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sri_sha384(data: bytes) -> str:
    """The Subresource Integrity string a browser compares a script's bytes with."""
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode("ascii")


@dataclass(frozen=True, slots=True)
class PageScript:
    """The one script an index.html runs."""

    src: str
    integrity: str


class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.scripts: list[dict[str, str | None]] = []
        self.inline = False
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts.append(dict(attrs))
            self._in_script = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.inline = True


def page_script(index_html: str) -> PageScript:
    """The script `index_html` runs, or BundleError saying why it runs something else too."""
    parser = _Scripts()
    parser.feed(index_html)
    parser.close()
    if parser.inline:
        raise BundleError("index.html holds inline script code")
    if len(parser.scripts) != 1:
        raise BundleError(f"index.html has {len(parser.scripts)} script elements, expected exactly one")
    attrs = parser.scripts[0]
    src, integrity = attrs.get("src"), attrs.get("integrity")
    if attrs.get("type") != "module" or not src or not integrity:
        raise BundleError("index.html's script must be type=module with src and integrity attributes")
    if not integrity.startswith("sha384-") or " " in integrity.strip():
        raise BundleError(f"index.html's integrity {integrity!r} is not one sha384 digest")
    return PageScript(src, integrity.strip())


@dataclass(frozen=True, slots=True)
class BuiltPage:
    """A built page folder whose every file matched its manifest when read."""

    files: dict[str, bytes]
    bundle: str
    app_bundle_sha256: str
    integrity: str
    page_integrity: dict[str, str]
    """Each HTML file's one script's SRI string (index.html's is `integrity`)."""


def _manifest(folder: Path) -> dict[str, object]:
    path = folder / MANIFEST_FILE
    try:
        document = json.loads(path.read_bytes()[:MAX_PAGE_FILE_BYTES])
    except FileNotFoundError:
        raise BundleError(
            f"{folder} has no {MANIFEST_FILE} (build it: cd web && npm run build:page)"
        ) from None
    except ValueError as exc:
        raise BundleError(f"{path}: not JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
        raise BundleError(f"{path}: not a {MANIFEST_FORMAT} manifest")
    return document


def read_built_page(folder: Path) -> BuiltPage:
    """Every file the manifest lists, each checked against its SHA-256 and SRI string, and the
    index.html's one script checked to be the bundle with its integrity."""
    manifest = _manifest(folder)
    listed = manifest.get("files")
    bundle = manifest.get("bundle")
    if not isinstance(listed, list) or not 0 < len(listed) <= MAX_PAGE_FILES or not isinstance(bundle, str):
        raise BundleError(f"{folder / MANIFEST_FILE}: files and bundle missing")
    files: dict[str, bytes] = {}
    for entry in listed:
        name = entry.get("file") if isinstance(entry, dict) else None
        if not isinstance(name, str) or "/" in name or name.startswith(".") or name == MANIFEST_FILE:
            raise BundleError(f"{folder / MANIFEST_FILE}: bad file entry {entry!r}")
        data = (folder / name).read_bytes()
        if len(data) > MAX_PAGE_FILE_BYTES:
            raise BundleError(f"{folder / name}: over {MAX_PAGE_FILE_BYTES} bytes")
        if entry.get("sha256") != sha256_hex(data) or entry.get("integrity") != sri_sha384(data):
            raise BundleError(f"{folder / name} does not match {MANIFEST_FILE} (rebuild: npm run build:page)")
        files[name] = data
    if bundle not in files or INDEX_FILE not in files:
        raise BundleError(f"{folder / MANIFEST_FILE} lists no {bundle!r} or no {INDEX_FILE}")
    if manifest.get("app_bundle_sha256") != sha256_hex(files[bundle]):
        raise BundleError(f"{folder / MANIFEST_FILE}: app_bundle_sha256 is not the bundle's")
    pages: dict[str, str] = {}
    for name in (n for n in files if n.endswith(".html")):
        script = page_script(files[name].decode("utf-8", errors="replace"))
        if script.src not in files or script.integrity != sri_sha384(files[script.src]):
            raise BundleError(f"{folder / name}'s script is not a listed file with its integrity")
        pages[name] = script.integrity
    if pages[INDEX_FILE] != sri_sha384(files[bundle]):
        raise BundleError(f"{folder / INDEX_FILE}'s script is not {bundle} with its integrity")
    return BuiltPage(files, bundle, sha256_hex(files[bundle]), pages[INDEX_FILE], pages)
