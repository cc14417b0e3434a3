"""The portal from a wheel: built from the repository, installed in a clean virtual environment,
``civic up --demo`` serves every page, the API documentation and every vendored file.

The wheel is built offline (``--no-build-isolation``, with the setuptools that the test extras
pin to the build backend's version). The clean environment gets only the wheel; the
dependencies come from the development environment's site-packages through a ``.pth`` file,
after the clean environment's own, so ``civicledger`` is imported from the wheel (checked).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.sdk.conftest import Server, free_port, wait_ready
from tests.web.portal_pages import portal_pages, with_language
from tests.web.test_vendored import STATIC_VENDOR, vendored

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "src" / "civicledger" / "web"
PORTAL_DATA = ("templates", "static", "i18n")

pytestmark = pytest.mark.slow


def run(*command: str | Path, cwd: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PIP_REQUIRE_VIRTUALENV")}
    done = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=240)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """A wheel built from a copy of the repository's sources."""
    work = tmp_path_factory.mktemp("build")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, work / name)
    shutil.copytree(ROOT / "src", work / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
        "--wheel-dir", work / "dist", ".", cwd=work)
    (built,) = (work / "dist").glob("civicledger-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A clean virtual environment holding the wheel; its ``bin`` folder."""
    home = tmp_path_factory.mktemp("venv")
    venv = home / "env"
    run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=home)
    python = venv / "bin" / "python"
    run(sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel,
        cwd=home)
    purelib = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = Path(run(python, "-c", purelib, cwd=home).strip())
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(deps)))
    where = run(python, "-c", "import civicledger.web; print(civicledger.web.__file__)", cwd=home).strip()
    assert Path(where).is_relative_to(venv), f"civicledger comes from {where}, not the wheel"
    return venv / "bin"


@pytest.fixture(scope="module")
def wheel_server(installed, tmp_path_factory) -> Iterator[Server]:
    home = tmp_path_factory.mktemp("run")
    data, port = home / "data", free_port()
    log = home / "node.log"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with open(log, "w") as out:
        process = subprocess.Popen(
            [str(installed / "civic"), "--data", str(data), "up", "--demo", "--host", "127.0.0.1",
             "--port", str(port)], cwd=home, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log)
        yield Server(url, data)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_the_wheel_holds_every_file_of_the_portal(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {f"civicledger/web/{path.relative_to(WEB)}" for folder in PORTAL_DATA
              for path in (WEB / folder).rglob("*") if path.is_file() and "__pycache__" not in path.parts}
    assert len(wanted) > 80
    assert sorted(wanted - names) == []


def test_the_installed_portal_serves_every_page(wheel_server):
    with httpx.Client(base_url=wheel_server.url, timeout=30) as client:
        for page in portal_pages(wheel_server):
            for lang in ("ko", "en"):
                response = client.get(with_language(page.path, lang))
                expected = 404 if page.name == "not-found" else 200
                assert response.status_code == expected, (page.name, lang, response.text[:500])
                assert f'<html lang="{lang}">' in response.text, (page.name, lang)
        for path in ("/docs", "/redoc"):
            response = client.get(path)
            assert response.status_code == 200 and "/static/vendor/" in response.text, path
        assert "/v1/transactions" in client.get("/openapi.json").json()["paths"]


def test_the_installed_portal_serves_its_vendored_and_static_files(wheel_server):
    with httpx.Client(base_url=wheel_server.url, timeout=30) as client:
        for name, (_, _, digest) in vendored(STATIC_VENDOR).items():
            response = client.get(f"/static/vendor/{name}")
            assert response.status_code == 200, name
            assert hashlib.sha256(response.content).hexdigest() == digest, name
        for path in (WEB / "static").glob("*.*"):
            response = client.get(f"/static/{path.name}")
            assert response.status_code == 200 and response.content == path.read_bytes(), path.name
