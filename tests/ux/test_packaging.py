"""Packaging: a built wheel and `pipx install .` give a working `streamtail` command.

Both install into brand-new virtual environments that see nothing of this machine's packages:
streamtail from the wheel (or the source tree, for pipx) and its declared dependencies from the
package index, at the versions of the test lock (requirements/test.txt) so the run is repeatable.
This works the same from a virtual environment and from a system interpreter. A dependency check
then proves every third-party module streamtail imports belongs to a declared requirement.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.ux.helpers import ROOT, Moto, cli_env

# Run inside the installed environment: imports every streamtail module, then checks that each
# third-party distribution loaded is streamtail's requirement or a requirement of one.
_DEPENDENCY_CHECK = r"""
import importlib, pkgutil, re, sys
from importlib import metadata
before = set(sys.modules)  # what site's .pth files loaded, before streamtail
import streamtail
for info in pkgutil.walk_packages(streamtail.__path__, "streamtail."):
    importlib.import_module(info.name)
def requirements(dist):
    names = set()
    for req in metadata.requires(dist) or []:
        if "extra ==" in req:
            continue
        names.add(re.split(r"[ ;<>=!~\[(]", req, maxsplit=1)[0].lower().replace("_", "-"))
    return names
closure, todo = set(), ["streamtail"]
while todo:
    for name in requirements(todo.pop()):
        if name not in closure:
            closure.add(name)
            try:
                metadata.distribution(name)
                todo.append(name)
            except metadata.PackageNotFoundError:
                pass
owners = metadata.packages_distributions()
stdlib = sys.stdlib_module_names
loaded = {m.split(".")[0] for m in set(sys.modules) - before} - stdlib - {"streamtail"}
undeclared = sorted(
    f"{top} ({', '.join(owners[top])})"
    for top in loaded
    if top in owners and not {d.lower().replace("_", "-") for d in owners[top]} & closure
)
print(streamtail.__file__)
print("UNDECLARED", " ".join(undeclared))
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean copy of the checkout: pip builds in the tree, and a stale build/ from an older
    layout would otherwise leak removed modules into the wheel."""
    copy = tmp_path_factory.mktemp("src") / "streamtail"
    shutil.copytree(
        ROOT,
        copy,
        ignore=shutil.ignore_patterns(
            ".git",
            "build",
            "dist",
            "*.egg-info",
            "node_modules",
            "__pycache__",
            ".*_cache",
            ".venv",
        ),
    )
    return copy


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory, source: Path) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(source)],
        check=True,
        timeout=600,
    )
    (built,) = out.glob("streamtail-*.whl")
    return built


def test_wheel_contents(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        dist_info = next(n.split("/")[0] for n in names if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(f"{dist_info}/METADATA").decode()
        entry_points = archive.read(f"{dist_info}/entry_points.txt").decode()
    package = {n for n in names if n.startswith("streamtail/") and n.endswith(".py")}
    expected = {str(p.relative_to(ROOT)) for p in (ROOT / "streamtail").rglob("*.py")}
    assert package == expected
    assert "streamtail = streamtail.__main__:entry" in entry_points
    for requirement in ("boto3", "typer", "rich", "orjson"):
        assert f"Requires-Dist: {requirement}" in metadata
    assert not any(n.startswith("tests/") for n in names)


LOCK = ROOT / "requirements" / "test.txt"


def _venv(path: Path) -> Path:
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(path)], check=True, timeout=120
    )
    return path / "bin"


def _outside_env(tmp_path: Path) -> dict[str, str]:
    """No PYTHONPATH, so nothing of this checkout can be picked up (run with cwd=tmp_path)."""
    env = cli_env(tmp_path)
    del env["PYTHONPATH"]
    return env


def _check_installed(bin_dir: Path, tmp_path: Path, moto: Moto, stream: str) -> None:
    env = _outside_env(tmp_path)
    version = subprocess.run(
        [bin_dir / "streamtail", "--version"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith("streamtail ")
    module = subprocess.run(
        [bin_dir / "python", "-m", "streamtail", "--help"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert module.returncode == 0 and module.stdout.startswith("Usage: ")
    listing = subprocess.run(
        [bin_dir / "streamtail", "ls", "-o", "ndjson", "--endpoint-url", moto.url],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert listing.returncode == 0, listing.stderr
    assert f'"stream":"{stream}"' in listing.stdout
    check = subprocess.run(
        [bin_dir / "python", "-c", _DEPENDENCY_CHECK],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.returncode == 0, check.stderr
    location, undeclared = check.stdout.splitlines()
    assert location.startswith(str(bin_dir.parent)), "streamtail came from outside the install"
    assert undeclared.strip() == "UNDECLARED", (
        f"imported but not declared in pyproject: {undeclared}"
    )


@pytest.mark.server
def test_wheel_installs_and_runs(
    wheel: Path, tmp_path: Path, moto_server: Moto, orders: str
) -> None:
    bin_dir = _venv(tmp_path / "venv")
    pip = [sys.executable, "-m", "pip", "--python", str(bin_dir / "python"), "install"]
    installed = subprocess.run(
        [*pip, "--constraint", str(LOCK), str(wheel)],
        env=_outside_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    assert (bin_dir / "streamtail").exists(), installed.stdout + installed.stderr
    _check_installed(bin_dir, tmp_path, moto_server, orders)


@pytest.mark.server
@pytest.mark.skipif(shutil.which("pipx") is None, reason="pipx is not installed (pip install pipx)")
def test_pipx_install(tmp_path: Path, source: Path, moto_server: Moto, orders: str) -> None:
    home = tmp_path / "pipx"
    env = {
        **_outside_env(tmp_path),
        "PIPX_HOME": str(home),
        "PIPX_BIN_DIR": str(tmp_path / "bin"),
        "PIPX_MAN_DIR": str(tmp_path / "man"),
    }
    result = subprocess.run(
        ["pipx", "install", f"--pip-args=--constraint {LOCK}", str(source)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    venv_bin = home / "venvs" / "streamtail" / "bin"
    assert (tmp_path / "bin" / "streamtail").exists()
    _check_installed(venv_bin, tmp_path, moto_server, orders)
