"""`simulate`, `scenarios run` and `--verify-fix` build through one pipeline
(`simulator.build.pipeline.run_build`): the same repo gives the same result whichever runs it.

The repo keeps its requirements in `backend/` and sets no rootDir, so its build fails;
`--verify-fix` proves `rootDir: backend` by building a copy with it. That copy, built again by
`simulate` and by `scenarios run`, must end exactly as the verification's own build did: same
outcome, exit code, Python and build output.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.docker

CREATED = "2026-03-01"  # Render's default Python for it: 3.14.3 (a stand-in image here)
BUILD_COMMAND = "pip install -r requirements.txt && python -c 'import app'"


def _service(root: Path, *, root_dir: str | None = None) -> Path:
    root.mkdir(parents=True)
    extra = f"    rootDir: {root_dir}\n" if root_dir else ""
    (root / "render.yaml").write_text(
        textwrap.dedent(
            f"""\
            services:
              - type: web
                name: backend
                runtime: python
                plan: free
                buildCommand: {json.dumps(BUILD_COMMAND)}
                startCommand: python app.py
            """
        )
        + extra,
        encoding="utf-8",
    )
    (root / "backend").mkdir()
    (root / "backend" / "requirements.txt").write_text("# nothing to install\n")
    (root / "backend" / "app.py").write_text("print('the app')\n")
    return root


def _build_output(result: dict[str, Any]) -> list[str]:
    """The log from the build command on, without what differs between two runs of one build
    (durations, the temporary checkout's path)."""
    lines = Path(result["log_path"]).read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("==> Running build command"))
    return [re.sub(r"\d+(\.\d+)?\s?(ms|s|m)\b", "<time>", line) for line in lines[start:]]


def _essence(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "outcome": result["outcome"],
        "exit_code": result["exit_code"],
        "python": result["python"],
        "image": result["image"],
        "event": result["event"],
        "output": _build_output(result),
    }


def test_simulate_scenarios_and_verify_fix_give_one_result(
    tmp_path: Path,
    render_sim: Callable[..., Any],
) -> None:
    common = ("--network", "none", "--created", CREATED, "--json")
    broken = _service(tmp_path / "broken")
    verifying = render_sim("simulate", str(broken), "--verify-fix", *common)
    assert verifying.returncode == 0, verifying.stderr[-3000:]
    verification = json.loads(verifying.stdout)["verify_fix"]
    assert verification["status"] == "verified"
    assert "rootDir: backend" in json.dumps(verification["change"])

    fixed = _service(tmp_path / "fixed", root_dir="backend")
    simulated = render_sim("simulate", str(fixed), *common)
    assert simulated.returncode == 0, simulated.stderr[-3000:]
    (from_simulate,) = json.loads(simulated.stdout)["results"]

    suite = tmp_path / "suite"
    shutil.copytree(fixed, suite / "fixed")
    (suite / "fixed" / "scenario.yaml").write_text(
        f"network: none\noptions:\n  created: {CREATED}\nexpect:\n  outcome: succeeded\n",
        encoding="utf-8",
    )
    scenarios = render_sim("scenarios", "run", "--dir", str(suite), "--json")
    assert scenarios.returncode == 0, scenarios.stderr[-3000:]
    (from_scenario,) = json.loads(scenarios.stdout)["scenarios"]

    assert from_simulate["outcome"] == "succeeded"
    expected = _essence(from_simulate)
    assert _essence(from_scenario["result"]) == expected
    assert _essence(verification["result"]) == expected
