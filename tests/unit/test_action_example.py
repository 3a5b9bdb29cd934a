"""The example workflow (examples/github-actions/render-sim.yml) fits the Action it uses."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))
WORKFLOW_TEXT = (ROOT / "examples" / "github-actions" / "render-sim.yml").read_text(
    encoding="utf-8"
)
WORKFLOW = yaml.safe_load(WORKFLOW_TEXT)


def action_steps() -> list[dict[str, Any]]:
    return [
        step
        for job in WORKFLOW["jobs"].values()
        for step in job["steps"]
        if str(step.get("uses", "")).split("@")[0].endswith("/render-sim")
    ]


def test_example_passes_only_inputs_the_action_declares() -> None:
    given = {name for step in action_steps() for name in step.get("with", {})}
    assert given and given <= set(ACTION["inputs"])


def test_example_runs_each_command_of_the_action() -> None:
    assert sorted(step["with"]["command"] for step in action_steps()) == [
        "check",
        "scenarios",
        "simulate",
    ]


def test_example_reads_only_outputs_the_action_sets() -> None:
    ids = {step["id"] for step in action_steps() if "id" in step}
    pattern = r"steps\.(?:" + "|".join(ids) + r")\.outputs\.([\w-]+)"
    read = set(re.findall(pattern, WORKFLOW_TEXT))
    assert read and read <= set(ACTION["outputs"])
