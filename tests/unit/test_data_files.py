"""render-sim's data files: one loader (`simulator.render.facts`), one schema per file.

Every file loads; taking out any key its schema requires, at the top or in the first entry of a
list or table, fails at load with a message naming the file, the place and the key.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from packaging.version import Version

from simulator.render import facts

NAMES = sorted(
    path.name.removesuffix(".schema.json")
    for path in (facts.DATA / "schemas").iterdir()
    if path.name.endswith(".schema.json")
)
#: Files of facts gathered from outside render-sim: each must say where they come from.
SOURCED = {
    "cpython_releases",
    "render_blueprint",
    "render_build_env",
    "render_build_tools",
    "render_platform",
    "render_python_defaults",
    "render_tool_versions",
    "standin_suites",
}


def test_every_data_file_has_a_schema() -> None:
    data_files = {
        path.name.removesuffix(".yaml")
        for path in facts.DATA.iterdir()
        if path.name.endswith(".yaml")
    }
    assert data_files == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_data_file_loads(name: str) -> None:
    assert facts.load(name)


@pytest.mark.parametrize("name", sorted(SOURCED))
def test_facts_from_outside_name_their_source(name: str) -> None:
    assert "source" in facts.schema(name)["required"]
    assert facts.load(name)["source"].strip()


def _required_keys(
    schema: dict[str, Any], data: Any, path: tuple[Any, ...] = ()
) -> Iterator[tuple[tuple[Any, ...], str]]:
    """(path of a mapping in `data`, key its schema requires), for the top level and the first
    entry of every list or table below it."""
    if not isinstance(data, dict):
        return
    for key in schema.get("required", []):
        if key in data:
            yield path, key
    for key, sub in (schema.get("properties") or {}).items():
        value = data.get(key)
        if isinstance(value, list) and value and isinstance(sub.get("items"), dict):
            yield from _required_keys(sub["items"], value[0], (*path, key, 0))
        elif isinstance(value, dict):
            yield from _required_keys(sub, value, (*path, key))
            extra = sub.get("additionalProperties")
            if isinstance(extra, dict) and value:
                first = next(iter(value))
                yield from _required_keys(extra, value[first], (*path, key, first))


CASES = [
    pytest.param(name, path, key, id=f"{name}:{'.'.join(map(str, (*path, key)))}")
    for name in NAMES
    for path, key in _required_keys(facts.schema(name), facts.load(name))
]


@pytest.mark.parametrize(("name", "path", "key"), CASES)
def test_a_missing_required_key_fails_at_load_naming_file_and_key(
    name: str, path: tuple[Any, ...], key: str
) -> None:
    broken = copy.deepcopy(facts.load(name))
    holder = broken
    for step in path:
        holder = holder[step]
    del holder[key]
    with pytest.raises(facts.DataFileError) as raised:
        facts.validate(name, broken)
    message = str(raised.value)
    assert f"simulator/data/{name}.yaml" in message
    assert f"'{key}' is a required property" in message


def test_every_file_is_checked_for_required_keys() -> None:
    assert {case.values[0] for case in CASES} == set(NAMES)


def test_a_wrong_type_names_the_place() -> None:
    broken = copy.deepcopy(facts.load("render_build_tools"))
    broken["tools"][2]["installed"] = "yes"
    with pytest.raises(
        facts.DataFileError, match=r"render_build_tools\.yaml: tools\[2\]\.installed"
    ):
        facts.validate("render_build_tools", broken)


def test_the_platform_is_renders_build_machine() -> None:
    platform = facts.platform()
    assert (platform.debian, platform.glibc_text) == ("bookworm", "2.36")
    minors = [Version(minor) for minor in platform.python_minors]
    assert minors == sorted(minors, reverse=True)  # newest first
    assert platform.memory_bytes == 8 * 1024**3
    assert platform.timeout_s == 120 * 60
    assert platform.disk_bytes == 16 * 1024**3


FIELDS = {
    "service_id": "srv-abc",
    "service_name": "api",
    "service_type": "web",
    "git_commit": "f" * 40,
    "git_branch": "main",
    "git_slug": "me/app",
    "venv": "/opt/render/project/src/.venv",
}


def test_the_build_env_is_filled_in_for_the_service() -> None:
    env = facts.build_env(**FIELDS)
    assert env["RENDER_SERVICE_NAME"] == "api"
    assert env["RENDER_EXTERNAL_URL"] == "https://api.onrender.com"
    assert env["RENDER_INSTANCE_ID"] == "srv-abc-build"
    assert env["VENV_ROOT"] == FIELDS["venv"]
    assert not any("{" in value for value in env.values())


def test_a_worker_gets_the_web_only_variables_empty() -> None:
    env = facts.build_env(**{**FIELDS, "service_type": "worker"})
    assert env["RENDER_EXTERNAL_HOSTNAME"] == env["RENDER_EXTERNAL_URL"] == ""
    assert env["RENDER_SERVICE_TYPE"] == "worker"


def test_a_template_naming_an_unknown_field_fails_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broken = copy.deepcopy(facts.load("render_build_env"))
    broken["variables"]["RENDER_GIT_COMMIT"] = "{commit}"
    monkeypatch.setattr(facts, "load", lambda name: broken)
    with pytest.raises(
        facts.DataFileError, match=r"render_build_env\.yaml: variables\.RENDER_GIT_COMMIT"
    ):
        facts.build_env(**FIELDS)


def test_the_blueprint_spec_knows_the_python_service_fields() -> None:
    spec = facts.blueprint_spec()
    assert {"buildCommand", "rootDir", "envVars", "runtime"} <= spec.service_keys
    assert spec.built_types <= set(spec.service_types)
    assert "python" in spec.runtimes
    assert set(spec.value_forms) <= spec.env_var_keys
