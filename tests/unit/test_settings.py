"""A repo's settings file (`[tool.render-sim]` in pyproject.toml, or `.render-sim.toml`): what it
sets, the precedence command line > RENDER_SIM_* > file > default, and its errors (exit 2,
naming file, line and key). No Docker."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from index_fixture import CP313, LocalIndex

from simulator.config.settings import load_settings, resolve
from simulator.errors import ConfigurationError

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}
BLUEPRINT = (
    "services:\n  - type: web\n    name: api\n    runtime: python\n"
    "    buildCommand: pip install -r requirements.txt\n    startCommand: python main.py\n"
)
GIB = 1024**3


def make_repo(tmp_path: Path, **files: str) -> Path:
    root = tmp_path / "repo"
    root.mkdir(exist_ok=True)
    for name, text in {"render.yaml": BLUEPRINT, "requirements.txt": "", **files}.items():
        (root / name).write_text(text)
    return root


def render_sim(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("RENDER_SIM_")}
    return subprocess.run(
        [sys.executable, "-m", "simulator", *args],
        capture_output=True,
        text=True,
        env={**clean, **NO_ENGINE, "COLUMNS": "200", **env},
        timeout=120,
    )


def plan_json(root: Path, *args: str, **env: str) -> dict[str, Any]:
    proc = render_sim("plan", str(root), "--offline", "--json", *args, **env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data: dict[str, Any] = json.loads(proc.stdout)
    return data


def setting(data: dict[str, Any], key: str) -> dict[str, Any]:
    return next(item for item in data["settings"] if item["key"] == key)


def defaults(**values: Any) -> dict[str, Any]:
    return {"created": None, "memory": "8g", "cpus": 2.0, "service": None, **values}


# -- reading the file -------------------------------------------------------------------------


def test_pyproject_table_sets_the_created_date(tmp_path: Path) -> None:
    root = make_repo(tmp_path, **{"pyproject.toml": '[project]\nname = "x"\n\n[tool.render-sim]\ncreated = 2025-03-14\n'})  # fmt: skip
    resolved = resolve(root, defaults(), on_command_line=set())
    assert resolved.values["created"] == "2025-03-14"
    assert resolved.file == root / "pyproject.toml"


def test_render_sim_toml_holds_the_settings_without_a_header(tmp_path: Path) -> None:
    root = make_repo(tmp_path, **{".render-sim.toml": 'service = "api"\nmemory = "4g"\n'})
    loaded = load_settings(root)
    assert loaded is not None and dict(loaded.values) == {"service": "api", "memory": "4g"}
    assert loaded.where("memory") == f"{root / '.render-sim.toml'}:2"


def test_a_pyproject_without_the_table_is_not_read(tmp_path: Path) -> None:
    root = make_repo(tmp_path, **{"pyproject.toml": "[project\nbroken = \n"})  # not TOML at all
    assert load_settings(root) is None


def test_paths_in_the_file_are_relative_to_the_repo(tmp_path: Path) -> None:
    root = make_repo(tmp_path, **{".render-sim.toml": 'env-file = "ci/render.env"\n'})
    loaded = load_settings(root)
    assert loaded is not None and loaded.values["env-file"] == root / "ci" / "render.env"


def test_minutes_and_cpus_are_written_as_numbers(tmp_path: Path) -> None:
    root = make_repo(tmp_path, **{".render-sim.toml": "timeout = 30\ncpus = 1.5\nno-ca = true\n"})
    loaded = load_settings(root)
    assert loaded is not None
    assert dict(loaded.values) == {"timeout": "30", "cpus": 1.5, "no-ca": True}


# -- errors: exit 2, naming file, line and key ------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('created = 2025-03-14\nmemroy = "4g"\n', 2, ["memroy", "did you mean 'memory'"]),
        ('service = "api"\n\nmemory = "lots"\n', 3, ["memory", "'lots' is not a size"]),
        ('cpus = "two"\n', 1, ["cpus must be a number", "not a string"]),
        ("created = 2025-03-14T10:00:00\n", 1, ["created must be a date", "not a date-time"]),
        ('python = "3.13"\n', 1, ["python", "major, minor, and patch"]),
        ('created = "soon"\n', 1, ["created", "'soon' is not a date"]),
        ('timeout = "forever"\n', 1, ["timeout", "not a duration"]),
        ('base-image = "Not An Image!"\n', 1, ["base-image is not a Docker image reference"]),
        ("[render-sim]\ncreated = 2025-03-14\n", 1, ["unknown setting 'render-sim'"]),
        ("service = \n", 1, ["not valid TOML"]),
    ],
)
def test_a_bad_settings_file_exits_2_naming_file_line_and_key(
    tmp_path: Path, text: str, line: int, words: list[str]
) -> None:
    root = make_repo(tmp_path, **{".render-sim.toml": text})
    proc = render_sim("plan", str(root), "--offline")
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f".render-sim.toml:{line}:" in proc.stderr
    for word in words:
        assert word in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_bad_value_in_the_pyproject_table_names_its_line(tmp_path: Path) -> None:
    text = '[project]\nname = "x"\n\n[tool.render-sim]\nservice = "api"\nmemory = 4\n'
    root = make_repo(tmp_path, **{"pyproject.toml": text})
    with pytest.raises(ConfigurationError) as caught:
        load_settings(root)
    assert str(caught.value).startswith(f"{root / 'pyproject.toml'}:6: memory must be a string")


def test_settings_in_both_files_are_an_error(tmp_path: Path) -> None:
    root = make_repo(
        tmp_path,
        **{".render-sim.toml": "cpus = 1\n", "pyproject.toml": "[tool.render-sim]\ncpus = 2\n"},
    )
    with pytest.raises(ConfigurationError, match="both"):
        load_settings(root)


def test_a_bad_environment_value_names_the_variable(tmp_path: Path) -> None:
    proc = render_sim("plan", str(make_repo(tmp_path)), "--offline", RENDER_SIM_CPUS="many")
    assert proc.returncode == 2
    assert "RENDER_SIM_CPUS='many' is not a number" in proc.stderr


# -- precedence: command line > RENDER_SIM_* > file > default ---------------------------------


@pytest.fixture
def four_gig_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path, **{".render-sim.toml": 'memory = "4g"\ncreated = 2025-03-14\n'})


def test_the_file_wins_over_the_default(four_gig_repo: Path) -> None:
    data = plan_json(four_gig_repo)
    assert data["services"][0]["limits"]["memory_bytes"] == 4 * GIB
    assert setting(data, "memory") == {
        "key": "memory",
        "value": "4g",
        "source": "file",
        "where": f"{four_gig_repo / '.render-sim.toml'}:1",
    }


def test_the_environment_wins_over_the_file(four_gig_repo: Path) -> None:
    data = plan_json(four_gig_repo, RENDER_SIM_MEMORY="3g")
    assert data["services"][0]["limits"]["memory_bytes"] == 3 * GIB
    assert setting(data, "memory")["where"] == "RENDER_SIM_MEMORY"


def test_the_command_line_wins_over_environment_and_file(four_gig_repo: Path) -> None:
    data = plan_json(four_gig_repo, "--memory", "2g", RENDER_SIM_MEMORY="3g")
    assert data["services"][0]["limits"]["memory_bytes"] == 2 * GIB
    assert setting(data, "memory")["source"] == "command-line"


def test_the_default_typed_on_the_command_line_still_wins(four_gig_repo: Path) -> None:
    data = plan_json(four_gig_repo, "--memory", "8g")
    assert data["services"][0]["limits"]["memory_bytes"] == 8 * GIB


def test_an_empty_environment_variable_counts_as_unset(four_gig_repo: Path) -> None:
    data = plan_json(four_gig_repo, RENDER_SIM_MEMORY="")
    assert setting(data, "memory")["source"] == "file"


def test_the_created_date_in_the_file_decides_renders_default_python(four_gig_repo: Path) -> None:
    python = plan_json(four_gig_repo)["services"][0]["python"]
    assert (python["version"], python["requested"]) == ("3.11.11", "default for 2025-03-14")


def test_plan_shows_where_each_chosen_value_came_from(four_gig_repo: Path) -> None:
    proc = render_sim("plan", str(four_gig_repo), "--offline", "--cpus", "1", RENDER_SIM_TIMEOUT="60m")  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    settings = proc.stdout.split("Settings", 1)[1]
    assert f"(file: {four_gig_repo / '.render-sim.toml'})" in settings
    lines = {line.split()[0]: line for line in settings.splitlines()[1:] if line.strip()}
    assert "4g" in lines["memory"] and ".render-sim.toml:1)" in lines["memory"]
    assert "(environment: RENDER_SIM_TIMEOUT)" in lines["timeout"]
    assert "(command line)" in lines["cpus"]
    assert "idle-timeout" not in lines  # a default is not listed


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """demo 2.9.2 pins demo-core 2.23.4, which has wheels for CPython 3.13 only."""
    index = LocalIndex(tmp_path_factory.mktemp("index"))
    index.add("demo", "2.9.2", requires=["demo-core==2.23.4"])
    index.add("demo-core", "2.23.4", wheels=[CP313], sdist=True)
    with index.serve() as url:
        yield url


def test_check_reads_the_created_date_and_index_from_the_file(
    tmp_path: Path, index_url: str
) -> None:
    # created 2025-07-01: Render's default is 3.13.4, for which demo-core has a wheel
    settings = f'created = 2025-07-01\nindex-url = "{index_url}"\n'
    root = make_repo(
        tmp_path, **{".render-sim.toml": settings, "requirements.txt": "demo==2.9.2\n"}
    )
    proc = render_sim("check", str(root), "--json", RENDER_SIM_HOME=str(tmp_path / "home"))
    data = json.loads(proc.stdout)
    assert (proc.returncode, data["index_url"]) == (0, index_url), proc.stderr
    assert data["services"][0]["python"]["version"].startswith("3.13.")
