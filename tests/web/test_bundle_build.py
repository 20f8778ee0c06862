"""The voter page's build is reproducible (web/build/page.mjs, docs/web.md "The bundle on the ledger").

An observer who rebuilds the page from the same commit must get the bytes whose SHA-256 the
election definition names; so two builds into two fresh folders are compared byte for byte, and
the output must carry nothing of the machine (no folder path) and the manifest must describe it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from tests.web.bundle_kit import build_page
from tests.web.node_runner import ROOT, WEB


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_builds_in_fresh_folders_are_byte_identical(tmp_path: Path) -> None:
    first, second = tmp_path / "one", tmp_path / "elsewhere" / "two"
    build_page(first)
    build_page(second)
    files = tree(first)
    assert sorted(files) == [
        "app.css",
        "app.js",
        "index.html",
        "manifest.json",
        "public.css",
        "public.html",
        "public.js",
    ]
    assert files == tree(second)
    for name, data in files.items():
        for path in (str(ROOT), str(WEB), str(tmp_path)):
            assert path.encode() not in data, f"{name} names the folder {path}"


def test_manifest_and_index_pin_the_bundle(tmp_path: Path) -> None:
    manifest = build_page(tmp_path)
    bundle = (tmp_path / "app.js").read_bytes()
    sha256 = hashlib.sha256(bundle).hexdigest()
    integrity = "sha384-" + base64.b64encode(hashlib.sha384(bundle).digest()).decode()
    assert manifest["format"] == "votestore-web-bundle/v1"
    assert manifest["app_bundle_sha256"] == sha256
    listed = {f["file"]: f for f in manifest["files"]}
    for name, entry in listed.items():
        data = (tmp_path / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["bytes"] == len(data)
    assert listed["app.js"]["integrity"] == integrity
    index = (tmp_path / "index.html").read_text(encoding="utf-8")
    assert f'<script type="module" src="app.js" integrity="{integrity}" crossorigin="anonymous">' in index
    assert index.count("<script") == 1


def test_npm_build_page_uses_the_reproducible_build() -> None:
    scripts = json.loads((WEB / "package.json").read_text(encoding="utf-8"))["scripts"]
    assert scripts["build:page"] == "node build/page.mjs dist"
