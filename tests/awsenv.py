"""The one clean AWS environment every test package runs streamtail in.

Nothing from the developer's machine leaks in: no AWS_* variable (profile, region, endpoints,
credentials), no shared config or credential file (both point at empty files the test owns), no
instance metadata lookup, no colour or width setting, no completion request. What the test wants
is then set explicitly: fake credentials (or none, to test their absence) and a region.

`clean_environ()` builds the environment as a dict (for subprocesses); `use_environ()` makes
this process's environment that dict for the length of a test (for CliRunner and in-process moto).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # bench/ imports this through tests/integration/servers.py, without pytest
    import pytest

REGION = "us-east-1"
#: variables that change what streamtail prints, besides AWS_*: dropped unless a test sets them
LEAKY = ("NO_COLOR", "FORCE_COLOR", "COLUMNS", "LINES", "_STREAMTAIL_COMPLETE")


def clean_environ(
    config_dir: Path,
    *,
    base: Mapping[str, str] | None = None,
    credentials: tuple[str, str] | None = ("testing", "testing"),
    region: str | None = REGION,
    region_variable: str = "AWS_DEFAULT_REGION",
) -> dict[str, str]:
    """`base` (default: this process's environment) without any AWS or terminal setting, with
    empty AWS config and credential files in `config_dir`, IMDS off, then `credentials`
    (access key id, secret) and `region` (in `region_variable`) when given."""
    base = os.environ if base is None else base
    env = {k: v for k, v in base.items() if not k.startswith("AWS_") and k not in LEAKY}
    config_dir.mkdir(parents=True, exist_ok=True)
    config = config_dir / "aws-config"
    shared_credentials = config_dir / "aws-credentials"
    config.touch()
    shared_credentials.touch()
    env.update(
        AWS_CONFIG_FILE=str(config),
        AWS_SHARED_CREDENTIALS_FILE=str(shared_credentials),
        AWS_EC2_METADATA_DISABLED="true",
    )
    if credentials is not None:
        env.update(AWS_ACCESS_KEY_ID=credentials[0], AWS_SECRET_ACCESS_KEY=credentials[1])
    if region is not None:
        env[region_variable] = region
    return env


def use_environ(monkeypatch: pytest.MonkeyPatch, environ: Mapping[str, str]) -> None:
    """Make `os.environ` exactly `environ` until the test ends (monkeypatch restores it)."""
    for name in list(os.environ):
        if name not in environ:
            monkeypatch.delenv(name)
    for name, value in environ.items():
        if os.environ.get(name) != value:
            monkeypatch.setenv(name, value)
