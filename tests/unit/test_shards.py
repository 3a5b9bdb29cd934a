"""Shards of a scenario suite: each scenario in exactly one shard, the same split everywhere."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from simulator.errors import ConfigurationError, UsageError
from simulator.scenarios.manifest import MANIFEST
from simulator.scenarios.shards import (
    Shard,
    choose_shard,
    parse_shard,
    read_durations,
    select,
    shard_from_env,
    split,
    split_id,
    write_durations,
)

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}
NO_CI = ("CI_NODE_INDEX", "CI_NODE_TOTAL", "BUILDKITE_PARALLEL_JOB", "CIRCLE_NODE_INDEX")
NAMES = [f"scenario-{i:02d}" for i in range(11)]


def suite(root: Path, names: list[str]) -> Path:
    for name in names:
        folder = root / name
        folder.mkdir(parents=True)
        (folder / MANIFEST).write_text("network: none\nexpect: {outcome: succeeded}\n")
        (folder / "render.yaml").write_text(
            textwrap.dedent(
                f"""\
                services:
                  - type: web
                    name: {name}
                    runtime: python
                    buildCommand: "true"
                    startCommand: python app.py
                """
            )
        )
    return root


def listed(root: Path, *args: str) -> list[str]:
    env = {k: v for k, v in os.environ.items() if k not in NO_CI}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "simulator",
            "scenarios",
            "list",
            "--dir",
            str(root),
            "--json",
            *args,
        ],
        capture_output=True,
        text=True,
        env={**env, **NO_ENGINE},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return [s["name"] for s in json.loads(result.stdout)["scenarios"]]


# -- the acceptance: every shard's list, together, is the suite, each scenario once -------------


def test_scenarios_list_shards_cover_the_suite_exactly_once(tmp_path: Path) -> None:
    root = suite(tmp_path / "suite", NAMES)
    shards = [listed(root, "--shard", f"{i}/3") for i in range(1, 4)]
    together = [name for shard in shards for name in shard]
    assert sorted(together) == NAMES
    assert len(together) == len(set(together))
    assert all(shards)


def test_scenarios_list_shards_with_durations_cover_the_suite_exactly_once(tmp_path: Path) -> None:
    root = suite(tmp_path / "suite", NAMES)
    durations = tmp_path / "durations.json"
    # uneven times, one scenario the file does not know, one the suite no longer has
    times = {name: float(i * i) for i, name in enumerate(NAMES[:-1])}
    durations.write_text(json.dumps({"durations": {**times, "gone-scenario": 99.0}}))
    shards = [listed(root, "--shard", f"{i}/3", "--durations", str(durations)) for i in (1, 2, 3)]
    together = [name for shard in shards for name in shard]
    assert sorted(together) == NAMES
    assert len(together) == len(set(together))
    assert shards != [NAMES[0::3], NAMES[1::3], NAMES[2::3]]  # balanced by time, not dealt


# -- the split ---------------------------------------------------------------------------------


@pytest.mark.parametrize("total", [1, 2, 3, 5, 11, 14])
def test_round_robin_shards_differ_by_at_most_one_scenario(total: int) -> None:
    sizes = [len(shard) for shard in split(NAMES, total)]
    assert sum(sizes) == len(NAMES)
    assert max(sizes) - min(sizes) <= 1


def test_the_split_ignores_the_order_names_come_in() -> None:
    durations = {name: float(len(name) % 4) for name in NAMES}
    assert split(list(reversed(NAMES)), 3, durations) == split(NAMES, 3, durations)
    assert split(list(reversed(NAMES)), 3) == split(NAMES, 3)


def test_durations_balance_longest_first_into_the_least_loaded_shard() -> None:
    durations = {"a": 10.0, "b": 9.0, "c": 1.0, "d": 1.0, "e": 1.0}
    # a -> 1 (10); b -> 2 (9); c -> 2 (10); d -> 1 (11, tie: lower shard); e -> 2 (11)
    assert split(durations, 2, durations) == [["a", "d"], ["b", "c", "e"]]


def test_equal_durations_are_broken_by_name() -> None:
    durations = {"zeta": 5.0, "alpha": 5.0, "mid": 5.0}
    assert split(durations, 3, durations) == [["alpha"], ["mid"], ["zeta"]]


def test_a_scenario_without_a_recorded_time_counts_as_the_median() -> None:
    durations = {"a": 1.0, "b": 2.0, "c": 30.0}
    # "new" weighs 2 (the median), so it joins the lighter shard beside c's 30 s
    assert split(["a", "b", "c", "new"], 2, durations) == [["c"], ["a", "b", "new"]]


def test_no_shard_selects_the_whole_suite_sorted() -> None:
    assert select(reversed(NAMES), None) == NAMES


# -- where I/N comes from ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "4"}, Shard(1, 4)),  # GitLab: 1-based
        ({"BUILDKITE_PARALLEL_JOB": "0", "BUILDKITE_PARALLEL_JOB_COUNT": "4"}, Shard(1, 4)),
        ({"CIRCLE_NODE_INDEX": "3", "CIRCLE_NODE_TOTAL": "4"}, Shard(4, 4)),  # 0-based
        ({}, None),
    ],
)
def test_ci_index_variables_name_the_shard(env: dict[str, str], expected: Shard | None) -> None:
    found = shard_from_env(env)
    got = (found.index, found.total) if found else None
    assert got == ((expected.index, expected.total) if expected else None)


def test_the_shard_option_wins_over_the_ci_variables() -> None:
    shard = choose_shard("2/3", {"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "4"})
    assert (shard.index, shard.total, shard.source) == (2, 3, "--shard")  # type: ignore[union-attr]


@pytest.mark.parametrize("text", ["0/3", "4/3", "1/0", "x", "1-3", "/3"])
def test_a_shard_outside_one_to_n_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as caught:
        parse_shard(text)
    assert caught.value.hint


def test_ci_variables_that_are_not_numbers_are_a_usage_error() -> None:
    with pytest.raises(UsageError, match="CI_NODE_INDEX"):
        shard_from_env({"CI_NODE_INDEX": "one", "CI_NODE_TOTAL": "4"})


# -- the durations file ------------------------------------------------------------------------


def test_a_run_merges_its_times_into_the_durations_file(tmp_path: Path) -> None:
    path = tmp_path / "d" / "durations.json"
    assert read_durations(path) == {}  # a first run: no file yet
    write_durations(path, {"a": 1.234, "b": 2.0})
    merged = write_durations(path, {"b": 3.0, "c": 4.0})
    assert merged == {"a": 1.23, "b": 3.0, "c": 4.0}
    assert read_durations(path) == merged


@pytest.mark.parametrize(
    "text", ["not json", '["a", 1]', '{"durations": {"a": "fast"}}', '{"a": -1}']
)
def test_a_broken_durations_file_is_a_configuration_error(tmp_path: Path, text: str) -> None:
    path = tmp_path / "durations.json"
    path.write_text(text)
    with pytest.raises(ConfigurationError) as caught:
        read_durations(path)
    assert str(path) in str(caught.value) and caught.value.hint


def test_the_split_id_changes_with_the_suite_or_its_durations() -> None:
    base = split_id(NAMES, {"scenario-00": 3.0})
    assert split_id(list(reversed(NAMES)), {"scenario-00": 3.0, "elsewhere": 1.0}) == base
    assert split_id(NAMES, {"scenario-00": 4.0}) != base
    assert split_id(NAMES[:-1], {"scenario-00": 3.0}) != base
