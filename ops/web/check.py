"""The observer's check of a served voter page (`votestore web check`, docs/web.md): does the
page origin serve, under the integrity attribute a browser enforces, exactly the bundle whose
SHA-256 the election definition on the ledger names?

What must hold for a pass:
- the index.html at the URL runs one script, a module with `src` and `integrity`, no inline code
  (`ops.web.bundle.page_script`);
- the bytes served at that `src` hash to the definition's `app_bundle_sha256`;
- the integrity attribute is those bytes' SHA-384 — else a browser would refuse the genuine
  bundle, or (the attribute being the page's word) the page names code other than the ledger's.
Fetches are bounded in size and time, and follow no redirect: the check judges what that URL
serves, not where it sends a client.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final
from urllib.parse import urljoin

import httpx

from ops.web.bundle import MAX_PAGE_FILE_BYTES, BundleError, page_script, sha256_hex, sri_sha384

FETCH_TIMEOUT_S: Final = 20.0


@dataclass(frozen=True, slots=True)
class Checked:
    """One bundle that matched: where it came from, its SHA-256 (hex) and SRI string."""

    source: str
    sha256: str
    integrity: str


def _get(client: httpx.Client, url: str) -> bytes:
    try:
        with client.stream("GET", url) as answer:
            if answer.status_code != 200:
                raise BundleError(f"{url} answered HTTP {answer.status_code}")
            body = bytearray()
            for chunk in answer.iter_bytes():
                body += chunk
                if len(body) > MAX_PAGE_FILE_BYTES:
                    raise BundleError(f"{url} is over {MAX_PAGE_FILE_BYTES} bytes")
            return bytes(body)
    except httpx.HTTPError as exc:
        raise BundleError(f"cannot fetch {url}: {exc}") from None


def _matches(source: str, bundle: bytes, expected: bytes) -> Checked:
    served = sha256_hex(bundle)
    if served != expected.hex():
        raise BundleError(
            f"{source} has sha256 {served}; the election definition names app_bundle_sha256 {expected.hex()}"
        )
    return Checked(source, served, sri_sha384(bundle))


def check_url(url: str, expected: bytes) -> Checked:
    """The page at `url` (its index.html) and the bundle it names, against `expected`."""
    with httpx.Client(timeout=FETCH_TIMEOUT_S, follow_redirects=False) as client:
        index = _get(client, url)
        script = page_script(index.decode("utf-8", errors="replace"))
        bundle_url = urljoin(url, script.src)
        checked = _matches(f"served bundle {bundle_url}", _get(client, bundle_url), expected)
    if script.integrity != checked.integrity:
        raise BundleError(
            f"{url}'s integrity attribute is {script.integrity}; the bundle with the definition's "
            f"app_bundle_sha256 {expected.hex()} has {checked.integrity}"
        )
    return checked


def check_file(path: Path, expected: bytes) -> Checked:
    """A bundle file at hand (rebuilt, or saved from a page) against `expected`."""
    if path.stat().st_size > MAX_PAGE_FILE_BYTES:
        raise BundleError(f"{path} is over {MAX_PAGE_FILE_BYTES} bytes")
    return _matches(f"bundle file {path}", path.read_bytes(), expected)
