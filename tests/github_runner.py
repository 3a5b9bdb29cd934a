"""Run a composite GitHub Action's steps as GitHub's runner does, with bash, for tests.

What the runner does for a `using: composite` action, and what this does the same way:

- every `${{ ... }}` in a step's `run:` and `env:` is replaced before the step runs; the
  contexts are `inputs` (given, else the input's `default`), `github.action_path`,
  `github.workspace`, `runner.temp` and `steps.<id>.outputs.<name>` (an unknown context fails
  the test: the Action must not rely on one this cannot check);
- each step runs as `bash --noprofile --norc -eo pipefail SCRIPT` (GitHub's `shell: bash`) in
  the workspace, with `GITHUB_ACTIONS=true`, `GITHUB_WORKSPACE`, `RUNNER_TEMP`,
  `GITHUB_ACTION_PATH`, and a fresh `GITHUB_OUTPUT` and `GITHUB_STEP_SUMMARY` file;
- lines a step appends to `GITHUB_ENV` and `GITHUB_PATH` reach the steps after it (`NAME=value`
  or the `NAME<<DELIMITER` form); a failing step ends the action;
- the action's `outputs` are its `value:` expressions, evaluated at the end.

Docs: docs.github.com, "Metadata syntax for GitHub Actions" (runs for composite actions) and
"Workflow commands for GitHub Actions" (environment files).
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
RUNNER_VARIABLES = ("GITHUB_", "RUNNER_")


@dataclass
class StepRun:
    """One step as it ran: its id, the script, exit code, output and the outputs it set."""

    name: str
    step_id: str | None
    script: str
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]


@dataclass
class ActionRun:
    """A whole run: the steps, the action's outputs, the job summary, PATH and env additions."""

    workspace: Path
    steps: list[StepRun] = field(default_factory=list)
    outputs: dict[str, str] = field(default_factory=dict)
    summary: str = ""
    path_added: list[str] = field(default_factory=list)
    env_added: dict[str, str] = field(default_factory=dict)

    @property
    def succeeded(self) -> bool:
        return all(step.returncode == 0 for step in self.steps)

    @property
    def log(self) -> str:
        """Every step's stdout then stderr, as the job's log shows them."""
        return "\n".join(step.stdout + step.stderr for step in self.steps)

    def annotations(self, kind: str = "error") -> list[str]:
        return [line for line in self.log.splitlines() if line.startswith(f"::{kind} ")]

    def explain(self) -> str:
        return "\n".join(
            f"--- step {step.name!r}: exit {step.returncode}\n{step.stdout[-3000:]}\n{step.stderr[-5000:]}"
            for step in self.steps
        )


def parse_environment_file(text: str) -> dict[str, str]:
    """`NAME=value` lines and `NAME<<DELIMITER` blocks, as GitHub reads GITHUB_OUTPUT/ENV."""
    values: dict[str, str] = {}
    lines = iter(text.splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for inner in lines:
                if inner == delimiter:
                    break
                block.append(inner)
            else:
                raise AssertionError(f"{name}: no closing {delimiter!r}")
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
        elif line.strip():
            raise AssertionError(f"not an environment file line: {line!r}")
    return values


def evaluate(text: str, contexts: dict[str, Any]) -> str:
    """`text` with each `${{ a.b.c }}` replaced by that property (missing ones are empty)."""

    def value(match: re.Match[str]) -> str:
        parts = match.group(1).split(".")
        if parts[0] not in contexts or not all(re.fullmatch(r"[\w-]+", p) for p in parts):
            raise AssertionError(f"expression not supported here: {match.group(0)}")
        node: Any = contexts
        for part in parts:
            node = node.get(part, "") if isinstance(node, dict) else ""
        return str(node)

    return EXPRESSION.sub(value, text)


def run_action(
    action_path: Path,
    inputs: dict[str, str],
    *,
    workspace: Path,
    runner_temp: Path,
    env: dict[str, str] | None = None,
    timeout: float = 1800,
) -> ActionRun:
    """Run `action_path/action.yml`'s steps with `inputs`, as GitHub's runner would."""
    spec = yaml.safe_load((action_path / "action.yml").read_text(encoding="utf-8"))
    assert spec["runs"]["using"] == "composite", spec["runs"]
    declared = spec.get("inputs") or {}
    unknown = set(inputs) - set(declared)
    assert not unknown, f"the action has no input {sorted(unknown)}"
    values = {
        name: inputs.get(name, str(meta.get("default", ""))) for name, meta in declared.items()
    }
    base_env = {
        k: v for k, v in (env or dict(os.environ)).items() if not k.startswith(RUNNER_VARIABLES)
    }
    files = runner_temp / "_runner_files"
    files.mkdir(parents=True, exist_ok=True)
    github_env, github_path = files / "env", files / "path"
    github_env.touch()
    github_path.touch()
    run = ActionRun(workspace)
    step_outputs: dict[str, dict[str, dict[str, str]]] = {}
    for number, step in enumerate(spec["runs"]["steps"]):
        assert step.get("shell") == "bash" and "run" in step, step
        contexts = {
            "inputs": values,
            "github": {"action_path": str(action_path), "workspace": str(workspace)},
            "runner": {"temp": str(runner_temp)},
            "steps": step_outputs,
        }
        output_file = files / f"output-{number}"
        summary_file = files / f"summary-{number}"
        output_file.write_text("")
        summary_file.write_text("")
        added_path = [p for p in github_path.read_text().splitlines() if p]
        step_env = {
            **base_env,
            **parse_environment_file(github_env.read_text()),
            "PATH": os.pathsep.join([*reversed(added_path), base_env.get("PATH", os.defpath)]),
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ACTION_PATH": str(action_path),
            "RUNNER_TEMP": str(runner_temp),
            "GITHUB_OUTPUT": str(output_file),
            "GITHUB_STEP_SUMMARY": str(summary_file),
            "GITHUB_ENV": str(github_env),
            "GITHUB_PATH": str(github_path),
        }
        step_env.update({k: evaluate(str(v), contexts) for k, v in (step.get("env") or {}).items()})
        script = evaluate(step["run"], contexts)
        script_file = files / f"step-{number}.sh"
        script_file.write_text(script, encoding="utf-8")
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script_file)],
            cwd=workspace,
            env=step_env,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            timeout=timeout,
        )
        outputs = parse_environment_file(output_file.read_text())
        if step.get("id"):
            step_outputs[step["id"]] = {"outputs": outputs}
        run.summary += summary_file.read_text(encoding="utf-8")
        run.steps.append(
            StepRun(
                step.get("name", ""),
                step.get("id"),
                script,
                proc.returncode,
                proc.stdout,
                proc.stderr,
                outputs,
            )
        )
        if proc.returncode != 0:
            break
    contexts = {"steps": step_outputs}
    run.outputs = {
        name: evaluate(str(meta.get("value", "")), contexts)
        for name, meta in (spec.get("outputs") or {}).items()
    }
    run.path_added = [p for p in github_path.read_text().splitlines() if p]
    run.env_added = parse_environment_file(github_env.read_text())
    return run
