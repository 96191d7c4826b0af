"""Regenerate the shell completion scripts in this folder from the Typer app.

    python completions/generate.py          # write streamtail.bash, _streamtail, streamtail.fish
    python completions/generate.py --check  # exit 1 if any file is out of date

The scripts call back into `streamtail` for the actual candidates (commands, options, choices,
and stream names from the account), so they follow the app; tests/ux/test_completion.py fails
when these files drift from what the app generates. `streamtail --show-completion` and
`--install-completion` produce the same scripts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FILES = {"bash": "streamtail.bash", "zsh": "_streamtail", "fish": "streamtail.fish"}


def render(shell: str) -> str:
    # This checkout's code, whatever else is installed.
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    env = {**os.environ, "PYTHONPATH": path, "_STREAMTAIL_COMPLETE": f"source_{shell}"}
    code = "from streamtail.cli import app; app(prog_name='streamtail')"
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    return result.stdout.strip() + "\n"


def main() -> int:
    check = "--check" in sys.argv[1:]
    stale = []
    for shell, name in FILES.items():
        path = HERE / name
        text = render(shell)
        if check:
            if not path.exists() or path.read_text() != text:
                stale.append(name)
        else:
            path.write_text(text)
    if stale:
        print(f"out of date: {', '.join(stale)}; run python completions/generate.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
