"""What importing streamtail costs and needs: `--help` never loads boto3, and every module-level
import is satisfied by a declared dependency (not by whatever else the test extras installed)."""

from __future__ import annotations

import ast
import importlib.metadata
import subprocess
import sys
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import streamtail

PACKAGE_DIR = Path(streamtail.__file__).parent
#: fastavro and protobuf (google) load only when a record needs a schema (also test_gsr_cli.py),
#: jmespath only with --where (test_where_cli.py); zstandard and lz4 only when a payload is a
#: zstd or lz4 frame
HEAVY = ("boto3", "botocore", "moto", "fastavro", "google", "jmespath", "zstandard", "lz4")

_REPORT_HEAVY = (
    "import sys\n"
    "bad = sorted(m for m in sys.modules if m.split('.')[0] in {heavy!r})\n"
    "print('HEAVY:', ','.join(bad), file=sys.stderr)\n"
)


def python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def heavy_modules(stderr: str) -> list[str]:
    [line] = [line for line in stderr.splitlines() if line.startswith("HEAVY:")]
    return [name for name in line.removeprefix("HEAVY:").strip().split(",") if name]


def test_importing_the_cli_loads_no_aws_sdk() -> None:
    result = python("import streamtail.cli\n" + _REPORT_HEAVY.format(heavy=HEAVY))
    assert result.returncode == 0, result.stderr
    assert heavy_modules(result.stderr) == []


def test_help_loads_no_aws_sdk() -> None:
    code = (
        "from streamtail.cli import main\n"
        "try:\n"
        "    main()\n"
        "except SystemExit as exc:\n"
        "    assert exc.code in (0, None), exc.code\n"
    )
    for args in (["--help"], ["read", "--help"], ["--version"]):
        result = python(code + _REPORT_HEAVY.format(heavy=HEAVY), *args)
        assert result.returncode == 0, result.stderr
        assert heavy_modules(result.stderr) == [], args


def test_compression_libraries_load_only_for_their_payloads() -> None:
    code = (
        "import gzip, sys\n"
        "from streamtail.decode import DecodeOptions, expand_all\n"
        "from streamtail.model import Record\n"
        "def loaded():\n"
        "    return sorted({m.split('.')[0] for m in sys.modules} & {'zstandard', 'lz4'})\n"
        "payloads = [b'{\"a\":1}', b'(text)', gzip.compress(b'{}'), b'\\x28\\xb5']\n"
        "expand_all([Record('s', '1', 'k', 0, p) for p in payloads], DecodeOptions())\n"
        "print(loaded())\n"
        "zstd = bytes.fromhex('28b52ffd2000010000')  # an empty zstd frame\n"
        "expand_all([Record('s', '2', 'k', 0, zstd)], DecodeOptions())\n"
        "print(loaded())\n"
    )
    result = python(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[]", "['zstandard']"]


def test_python_m_streamtail_help() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "streamtail", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert result.stderr == ""


def _base_requirements() -> set[str]:
    """streamtail's install requirements (no extras) and everything they require in turn."""
    names: set[str] = set()
    todo = ["streamtail"]
    while todo:
        dist = todo.pop()
        for spec in importlib.metadata.requires(dist) or []:
            requirement = Requirement(spec)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            name = canonicalize_name(requirement.name)
            if name not in names:
                names.add(name)
                todo.append(name)
    return names


def _module_level_imports(path: Path) -> set[str]:
    """Top-level packages imported when the module loads (not inside functions or TYPE_CHECKING)."""
    found: set[str] = set()

    def visit(body: list[ast.stmt]) -> None:
        for node in body:
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    visit(node.body)
                visit(node.orelse)
            elif isinstance(node, ast.Try):
                visit(node.body)
                for handler in node.handlers:
                    visit(handler.body)

    visit(ast.parse(path.read_text(encoding="utf-8")).body)
    return found


def test_module_level_imports_are_declared_dependencies() -> None:
    allowed = _base_requirements()
    providers = importlib.metadata.packages_distributions()
    undeclared: dict[str, str] = {}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        for module in _module_level_imports(path):
            if module in sys.stdlib_module_names or module in {"streamtail", "__future__"}:
                continue
            dists = {canonicalize_name(d) for d in providers.get(module, [module])}
            if not dists & allowed:
                undeclared[f"{path.relative_to(PACKAGE_DIR.parent)}: import {module}"] = ", ".join(
                    sorted(dists)
                )
    assert undeclared == {}, "imported at module level but not a dependency of streamtail"
