"""Vendored files are exactly the ones their folder's README lists, byte for byte.

``src/civicledger/web/static/vendor/`` holds what the portal serves (key-file libraries, the
Korean font, the API documentation bundles); ``tests/web/vendor/`` what only the tests load into
the browser (axe-core). Each README keeps one table of file, package, version and SHA-256.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC_VENDOR = ROOT / "src" / "civicledger" / "web" / "static" / "vendor"
TEST_VENDOR = ROOT / "tests" / "web" / "vendor"
ROW = re.compile(r"^\| `([^`]+)` \| ([^|]+) \| ([^|]+) \|[^\n]*\| `([0-9a-f]{64})` \|$", re.M)


def vendored(folder: Path) -> dict[str, tuple[str, str, str]]:
    """File → (package, version, SHA-256), as ``folder``/README.md lists them."""
    return {name: (package.strip(), version.strip(), digest)
            for name, package, version, digest in ROW.findall((folder / "README.md").read_text())}


@pytest.mark.parametrize("folder", [STATIC_VENDOR, TEST_VENDOR], ids=["static", "tests"])
def test_vendored_files_are_the_ones_their_readme_lists(folder: Path) -> None:
    listed = vendored(folder)
    present = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file() and p.name != "README.md"}
    assert present == set(listed), "every vendored file is listed, and every listed file is there"
    for name, (_, _, digest) in listed.items():
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, f"{name} changed"


def test_every_vendored_package_comes_with_its_licence() -> None:
    for folder in (STATIC_VENDOR, TEST_VENDOR):
        listed = vendored(folder)
        packages = {(package, version, name.split("/")[0]) for name, (package, version, _) in listed.items()}
        for package, version, directory in packages:
            assert f"{directory}/LICENSE" in listed, f"{package} {version} has no licence file"


def test_the_portal_vendors_what_its_pages_load() -> None:
    packages = {(package, version) for package, version, _ in vendored(STATIC_VENDOR).values()}
    assert packages == {("hash-wasm", "4.13.0"), ("tweetnacl", "1.0.3"),
                        ("@fontsource/noto-sans-kr", "5.3.0"), ("swagger-ui-dist", "5.35.0"),
                        ("redoc", "2.5.4")}
    assert {(p, v) for p, v, _ in vendored(TEST_VENDOR).values()} == {("axe-core", "4.14.1")}
