"""Reading render.yaml: Python services, env vars in every form, and errors that point."""

from __future__ import annotations

import base64
import tempfile
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.config.blueprint import Blueprint, find_blueprint, load_blueprint
from simulator.config.env_vars import EnvVar
from simulator.config.services import Service
from simulator.errors import ConfigurationError

PYTHON_WEB = """\
services:
  - type: web
    name: api
    runtime: python
    buildCommand: pip install -r requirements.txt
    startCommand: gunicorn app:app
"""


def write(repo: Path, text: str, name: str = "render.yaml") -> Path:
    path = repo / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def load(repo: Path, text: str) -> Blueprint:
    return load_blueprint(write(repo, text), repo_root=repo)


def only_service(repo: Path, text: str) -> Service:
    blueprint = load(repo, text)
    assert len(blueprint.services) == 1
    return blueprint.services[0]


def env(service: Service) -> dict[str, EnvVar]:
    return {var.key: var for var in service.env_vars}


def error_of(repo: Path, text: str) -> ConfigurationError:
    with pytest.raises(ConfigurationError) as caught:
        load(repo, text)
    return caught.value


# -- finding the file -------------------------------------------------------------------


def test_find_blueprint_prefers_render_yaml(tmp_path: Path) -> None:
    write(tmp_path, PYTHON_WEB, "render.yml")
    write(tmp_path, PYTHON_WEB, "render.yaml")
    assert find_blueprint(tmp_path) == tmp_path / "render.yaml"


def test_find_blueprint_falls_back_to_render_yml(tmp_path: Path) -> None:
    write(tmp_path, PYTHON_WEB, "render.yml")
    assert find_blueprint(tmp_path) == tmp_path / "render.yml"


def test_find_blueprint_returns_none_without_a_blueprint(tmp_path: Path) -> None:
    assert find_blueprint(tmp_path) is None


# -- services ---------------------------------------------------------------------------


def test_python_web_service_is_read_with_its_fields(tmp_path: Path) -> None:
    service = only_service(
        tmp_path,
        PYTHON_WEB + "    plan: free\n    region: frankfurt\n",
    )
    assert service == Service(
        name="api",
        type="web",
        runtime="python",
        root_dir="",
        build_command="pip install -r requirements.txt",
        start_command="gunicorn app:app",
        plan="free",
        region="frankfurt",
        env_vars=(),
        line=2,
        runtime_from_legacy_env=False,
    )
    assert service.is_python


@pytest.mark.parametrize("service_type", ["web", "pserv", "worker", "cron"])
def test_every_built_service_type_is_read(tmp_path: Path, service_type: str) -> None:
    assert only_service(tmp_path, PYTHON_WEB.replace("web", service_type)).type == service_type


def test_legacy_env_python_is_accepted_with_a_warning(tmp_path: Path) -> None:
    blueprint = load(tmp_path, PYTHON_WEB.replace("runtime: python", "env: python"))
    assert blueprint.services[0].runtime_from_legacy_env
    assert any("runtime:` replaced `env:" in w for w in blueprint.warnings)


def test_runtime_wins_over_legacy_env_with_a_warning(tmp_path: Path) -> None:
    blueprint = load(tmp_path, PYTHON_WEB + "    env: node\n")
    assert blueprint.services[0].runtime == "python"
    assert any("`env: node` is ignored" in w for w in blueprint.warnings)


def test_non_python_services_are_skipped_with_a_reason(tmp_path: Path) -> None:
    others = """\
      - type: web
        name: front
        runtime: node
        buildCommand: npm ci
      - type: web
        name: box
        runtime: docker
      - type: web
        name: site
        runtime: static
      - type: keyvalue
        name: cache
      - type: redis
        name: old-cache
    databases:
      - name: db
    """
    blueprint = load(tmp_path, PYTHON_WEB + textwrap.dedent(others))
    assert [s.name for s in blueprint.services] == ["api"]
    skipped = {s.name: s for s in blueprint.skipped}
    assert set(skipped) == {"front", "box", "site", "cache", "old-cache", "db"}
    assert skipped["front"].runtime == "node"
    assert "Dockerfile" in skipped["box"].reason
    assert "static site" in skipped["site"].reason
    assert "Key Value" in skipped["cache"].reason
    assert "old name" in skipped["old-cache"].reason
    assert skipped["db"].type == "database"


def test_services_in_projects_and_ungrouped_are_read(tmp_path: Path) -> None:
    blueprint = load(
        tmp_path,
        """\
        projects:
          - name: shop
            environments:
              - name: production
                services:
                  - type: worker
                    name: jobs
                    runtime: python
                    buildCommand: pip install .
                    startCommand: python -m jobs
        ungrouped:
          services:
            - type: web
              name: admin
              runtime: python
              buildCommand: pip install .
              startCommand: gunicorn admin:app
        """,
    )
    assert sorted(s.name for s in blueprint.services) == ["admin", "jobs"]


def test_empty_file_is_a_blueprint_without_services(tmp_path: Path) -> None:
    blueprint = load(tmp_path, "")
    assert blueprint.services == () and blueprint.skipped == ()


def test_comments_only_file_is_a_blueprint_without_services(tmp_path: Path) -> None:
    assert load(tmp_path, "# nothing yet\n").services == ()


def test_file_without_services_is_a_blueprint_without_services(tmp_path: Path) -> None:
    assert load(tmp_path, "databases:\n  - name: db\n").services == ()


def test_service_lookup_by_name(tmp_path: Path) -> None:
    assert load(tmp_path, PYTHON_WEB).service("api").name == "api"


def test_service_lookup_of_unknown_name_lists_python_services(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="no service named 'web'") as caught:
        load(tmp_path, PYTHON_WEB).service("web")
    assert caught.value.hint is not None and "api" in caught.value.hint


def test_service_lookup_of_skipped_service_says_why(tmp_path: Path) -> None:
    blueprint = load(tmp_path, "services:\n  - type: keyvalue\n    name: cache\n")
    with pytest.raises(ConfigurationError, match="not built by render-sim: a Key Value"):
        blueprint.service("cache")


def test_missing_start_command_is_a_warning(tmp_path: Path) -> None:
    blueprint = load(tmp_path, PYTHON_WEB.replace("    startCommand: gunicorn app:app\n", ""))
    assert blueprint.services[0].start_command is None
    assert any("no startCommand" in w for w in blueprint.warnings)


def test_unknown_service_key_is_a_warning(tmp_path: Path) -> None:
    blueprint = load(tmp_path, PYTHON_WEB + "    colour: blue\n")
    assert blueprint.warnings == (
        f"{tmp_path / 'render.yaml'}:7: services[0].colour: unknown key 'colour' in service "
        "'api': render-sim ignores it (see https://render.com/docs/blueprint-spec).",
    )


@pytest.mark.parametrize(
    ("key", "meant"),
    [("buildComand", "buildCommand"), ("startcommand", "startCommand"), ("rootdir", "rootDir")],
)
def test_misspelled_service_key_warning_suggests_the_right_name(
    tmp_path: Path, key: str, meant: str
) -> None:
    blueprint = load(tmp_path, PYTHON_WEB + f"    {key}: x\n")
    assert any(f"did you mean '{meant}'" in w for w in blueprint.warnings)


def test_misspelled_top_level_key_warning_suggests_the_right_name(tmp_path: Path) -> None:
    blueprint = load(tmp_path, PYTHON_WEB + "envVarGroup: []\n")
    assert any("did you mean 'envVarGroups'" in w for w in blueprint.warnings)


# -- rootDir ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "normalised"),
    [("backend", "backend"), ("./backend/", "backend"), ("apps/api/../api", "apps/api"), (".", "")],
)
def test_root_dir_is_normalised(tmp_path: Path, written: str, normalised: str) -> None:
    (tmp_path / "backend").mkdir()
    (tmp_path / "apps" / "api").mkdir(parents=True)
    service = only_service(tmp_path, PYTHON_WEB + f"    rootDir: {written}\n")
    assert service.root_dir == normalised


def test_absent_root_dir_is_empty(tmp_path: Path) -> None:
    assert only_service(tmp_path, PYTHON_WEB).root_dir == ""


def test_root_dir_is_not_checked_without_a_repo_root(tmp_path: Path) -> None:
    path = write(tmp_path, PYTHON_WEB + "    rootDir: not-there\n")
    assert load_blueprint(path).services[0].root_dir == "not-there"


# -- env vars ---------------------------------------------------------------------------


def with_env(items: str) -> str:
    return PYTHON_WEB + "    envVars:\n" + textwrap.indent(textwrap.dedent(items), "      ")


def test_plain_value_is_kept_as_written(tmp_path: Path) -> None:
    service = only_service(
        tmp_path,
        with_env(
            """\
            - key: GREETING
              value: hello
            - key: PORT
              value: 8000
            - key: RATIO
              value: 3.10
            - key: DEBUG
              value: false
            """
        ),
    )
    values = {key: var.value for key, var in env(service).items()}
    assert values == {"GREETING": "hello", "PORT": "8000", "RATIO": "3.10", "DEBUG": "false"}
    assert env(service)["PORT"] == EnvVar("PORT", "8000", "value", False, "service", line=10)


def test_generate_value_is_a_secret_base64_of_32_bytes(tmp_path: Path) -> None:
    var = env(only_service(tmp_path, with_env("- key: SECRET_KEY\n  generateValue: true\n")))[
        "SECRET_KEY"
    ]
    assert (var.kind, var.secret, var.placeholder) == ("generated", True, False)
    assert var.value is not None and len(base64.b64decode(var.value)) == 32


def test_generate_value_is_fresh_each_time(tmp_path: Path) -> None:
    text = with_env("- key: SECRET_KEY\n  generateValue: true\n")
    first = env(only_service(tmp_path, text))["SECRET_KEY"].value
    assert first != env(only_service(tmp_path, text))["SECRET_KEY"].value


def test_sync_false_is_a_prompted_secret_without_value(tmp_path: Path) -> None:
    blueprint = load(tmp_path, with_env("- key: STRIPE_KEY\n  sync: false\n"))
    var = env(blueprint.services[0])["STRIPE_KEY"]
    assert (var.value, var.kind, var.secret) == (None, "prompted", True)
    assert any("STRIPE_KEY" in w and "--env-file" in w for w in blueprint.warnings)


def test_from_database_is_a_marked_placeholder(tmp_path: Path) -> None:
    var = env(
        only_service(
            tmp_path,
            with_env(
                """\
                - key: DATABASE_URL
                  fromDatabase:
                    name: db
                    property: connectionString
                """
            ),
        )
    )["DATABASE_URL"]
    assert var.value == "render-sim-placeholder:fromDatabase:db.connectionString"
    assert (var.kind, var.placeholder, var.secret) == ("database", True, False)


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        ("property: hostport", "render-sim-placeholder:fromService:cache.hostport"),
        ("envVarKey: API_TOKEN", "render-sim-placeholder:fromService:cache.API_TOKEN"),
    ],
)
def test_from_service_is_a_marked_placeholder(
    tmp_path: Path, reference: str, expected: str
) -> None:
    var = env(
        only_service(
            tmp_path,
            with_env(
                f"""\
                - key: CACHE
                  fromService:
                    type: keyvalue
                    name: cache
                    {reference}
                """
            ),
        )
    )["CACHE"]
    assert (var.value, var.kind, var.placeholder) == (expected, "service", True)


GROUPS = """\
envVarGroups:
  - name: shared
    envVars:
      - key: LOG_LEVEL
        value: info
      - key: REGION
        value: eu
  - name: extra
    envVars:
      - key: REGION
        value: us
"""


def test_from_group_expands_the_groups_vars(tmp_path: Path) -> None:
    service = only_service(tmp_path, GROUPS + with_env("- fromGroup: shared\n"))
    variables = env(service)
    assert {k: v.value for k, v in variables.items()} == {"LOG_LEVEL": "info", "REGION": "eu"}
    assert variables["LOG_LEVEL"].origin == "group:shared"
    assert variables["LOG_LEVEL"].line == 4


def test_service_var_overrides_group_var(tmp_path: Path) -> None:
    service = only_service(
        tmp_path,
        GROUPS + with_env("- key: LOG_LEVEL\n  value: debug\n- fromGroup: shared\n"),
    )
    assert env(service)["LOG_LEVEL"].value == "debug"
    assert env(service)["LOG_LEVEL"].origin == "service"


def test_later_group_overrides_earlier_group(tmp_path: Path) -> None:
    service = only_service(tmp_path, GROUPS + with_env("- fromGroup: shared\n- fromGroup: extra\n"))
    assert env(service)["REGION"].value == "us"
    assert env(service)["REGION"].origin == "group:extra"


def test_later_service_var_overrides_earlier_with_a_warning(tmp_path: Path) -> None:
    blueprint = load(tmp_path, with_env("- key: A\n  value: 1\n- key: A\n  value: 2\n"))
    assert env(blueprint.services[0])["A"].value == "2"
    assert any("A is defined twice" in w for w in blueprint.warnings)


def test_generated_group_value_is_shared_by_its_services(tmp_path: Path) -> None:
    text = (
        "envVarGroups:\n  - name: keys\n    envVars:\n      - key: K\n        generateValue: true\n"
        + with_env("- fromGroup: keys\n")
        + PYTHON_WEB.split("\n", 1)[1].replace("name: api", "name: api2")
        + "    envVars:\n      - fromGroup: keys\n"
    )
    first, second = load(tmp_path, text).services
    assert env(first)["K"].value == env(second)["K"].value


def test_group_in_an_environment_is_visible_to_its_services(tmp_path: Path) -> None:
    blueprint = load(
        tmp_path,
        """\
        projects:
          - name: shop
            environments:
              - name: prod
                envVarGroups:
                  - name: prod-settings
                    envVars:
                      - key: MODE
                        value: prod
                services:
                  - type: web
                    name: api
                    runtime: python
                    buildCommand: pip install .
                    startCommand: gunicorn app:app
                    envVars:
                      - fromGroup: prod-settings
        """,
    )
    assert env(blueprint.services[0])["MODE"].value == "prod"


# -- errors: each names file, line and field, with a hint -------------------------------

ERRORS = [
    pytest.param(
        "services:\n  - type: web\n    name: [api\n", 3, "", "YAML syntax error", id="yaml-syntax"
    ),
    pytest.param("services:\n\t- type: web\n", 2, "", "YAML syntax error", id="yaml-tab"),
    pytest.param("- type: web\n", 1, "", "top level", id="root-not-mapping"),
    pytest.param(
        "services:\n  type: web\n", 1, "services", "must be a list", id="services-not-list"
    ),
    pytest.param(
        "services:\n  - web\n", 2, "services[0]", "must be a mapping", id="service-not-mapping"
    ),
    pytest.param(
        "services:\n  - type: web\n    runtime: python\n",
        2,
        "services[0].name",
        "no name",
        id="no-name",
    ),
    pytest.param("services:\n  - name: api\n", 2, "services[0].type", "no type", id="no-type"),
    pytest.param(
        "services:\n  - name: api\n    type: webservice\n",
        3,
        "services[0].type",
        "unknown type",
        id="unknown-type",
    ),
    pytest.param(
        "services:\n  - name: api\n    type: web\n    buildCommand: x\n",
        2,
        "services[0].runtime",
        "no runtime",
        id="no-runtime",
    ),
    pytest.param(
        "services:\n  - name: api\n    type: web\n    runtime: pyhton\n",
        4,
        "services[0].runtime",
        "unknown runtime",
        id="unknown-runtime",
    ),
    pytest.param(
        PYTHON_WEB.replace("    buildCommand: pip install -r requirements.txt\n", ""),
        2,
        "services[0].buildCommand",
        "no buildCommand",
        id="no-build-command",
    ),
    pytest.param(
        PYTHON_WEB + "    pythonVersion: 3.12.8\n",
        7,
        "services[0].pythonVersion",
        "not a Render Blueprint field",
        id="pythonVersion",
    ),
    pytest.param(
        PYTHON_WEB + "    python_version: '3.12'\n",
        7,
        "services[0].python_version",
        "not a Render Blueprint field",
        id="python_version",
    ),
    pytest.param(
        PYTHON_WEB + "    PYTHON_VERSION: 3.12.8\n",
        7,
        "services[0].PYTHON_VERSION",
        "not a Render Blueprint field",
        id="PYTHON_VERSION-as-service-key",
    ),
    pytest.param(
        PYTHON_WEB + "    python: '3.12'\n",
        7,
        "services[0].python",
        "not a Render Blueprint field",
        id="python",
    ),
    pytest.param(
        with_env("- value: x\n"), 8, "services[0].envVars[0].key", "has no key", id="env-no-key"
    ),
    pytest.param(
        with_env("- key: A\n"), 8, "services[0].envVars[0]", "has no value", id="env-no-value"
    ),
    pytest.param(
        with_env("- key: A\n  value: x\n  generateValue: true\n"),
        8,
        "services[0].envVars[0]",
        "use only one",
        id="env-two-values",
    ),
    pytest.param(
        with_env("- FOO=bar\n"),
        8,
        "services[0].envVars[0]",
        "must be a mapping",
        id="env-not-mapping",
    ),
    pytest.param(
        with_env("- key: DB\n  fromDatabase:\n    name: db\n    property: url\n"),
        11,
        "services[0].envVars[0].fromDatabase.property",
        "not one Render provides",
        id="bad-database-property",
    ),
    pytest.param(
        "envVarGroups:\n  - name: g\n    envVars:\n      - key: A\n        sync: false\n",
        4,
        "envVarGroups[0].envVars[0]",
        "groups cannot use sync: false",
        id="group-sync-false",
    ),
    pytest.param(
        "envVarGroups:\n  - name: g\n    envVars:\n      - key: A\n        fromDatabase:\n"
        "          name: db\n          property: host\n",
        4,
        "envVarGroups[0].envVars[0]",
        "groups cannot use fromDatabase",
        id="group-from-database",
    ),
    pytest.param(
        "envVarGroups:\n  - name: g\n    envVars:\n      - key: A\n        fromService:\n"
        "          name: s\n          type: web\n          property: host\n",
        4,
        "envVarGroups[0].envVars[0]",
        "groups cannot use fromService",
        id="group-from-service",
    ),
    pytest.param(
        PYTHON_WEB + "    rootDir: /srv/app\n",
        7,
        "services[0].rootDir",
        "absolute path",
        id="root-dir-absolute",
    ),
    pytest.param(
        PYTHON_WEB + "    rootDir: ../elsewhere\n",
        7,
        "services[0].rootDir",
        "outside the repository",
        id="root-dir-escapes",
    ),
    pytest.param(
        PYTHON_WEB + "    rootDir: backend\n",
        7,
        "services[0].rootDir",
        'Root directory "backend" does not exist.',
        id="root-dir-missing",
    ),
    pytest.param(
        PYTHON_WEB + PYTHON_WEB.split("\n", 1)[1],
        8,
        "services[1].name",
        "two services are named 'api' (the first on line 3)",
        id="duplicate-service-names",
    ),
    pytest.param(
        PYTHON_WEB + "    buildCommand: make\n",
        7,
        "",
        "duplicate key 'buildCommand'",
        id="duplicate-yaml-key",
    ),
]


@pytest.mark.parametrize(("text", "line", "field", "message"), ERRORS)
def test_bad_blueprint_error_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str, message: str
) -> None:
    error = error_of(tmp_path, text)
    assert message in error.message
    assert error.where is not None
    assert error.where.file == str(tmp_path / "render.yaml")
    assert (error.where.line, error.where.field) == (line, field)
    assert error.hint
    assert error.return_code == 2


def test_python_version_key_hint_shows_the_env_var_form(tmp_path: Path) -> None:
    error = error_of(tmp_path, PYTHON_WEB + "    pythonVersion: 3.12.8\n")
    assert error.hint is not None
    assert "- key: PYTHON_VERSION" in error.hint and "value: 3.12.8" in error.hint


def test_missing_build_command_hint_gives_an_example(tmp_path: Path) -> None:
    error = error_of(tmp_path, PYTHON_WEB.replace("buildCommand", "buildComand"))
    assert error.hint is not None
    assert "buildCommand: pip install -r requirements.txt" in error.hint
    assert "'buildComand' looks like a misspelling" in error.hint


def test_unknown_group_hint_suggests_close_name(tmp_path: Path) -> None:
    error = error_of(tmp_path, GROUPS + with_env("- fromGroup: shraed\n"))
    assert error.hint is not None and "Did you mean 'shared'" in error.hint


def test_error_string_reads_file_line_field_message(tmp_path: Path) -> None:
    error = error_of(tmp_path, PYTHON_WEB + "    pythonVersion: 3.12.8\n")
    assert str(error).startswith(f"{tmp_path / 'render.yaml'}:7: services[0].pythonVersion: ")


def test_non_utf8_blueprint_is_a_configuration_error(tmp_path: Path) -> None:
    path = tmp_path / "render.yaml"
    path.write_bytes(b"services:\n  - name: \xff\n")
    with pytest.raises(ConfigurationError, match="not UTF-8") as caught:
        load_blueprint(path)
    assert caught.value.where is not None and caught.value.where.line == 2


def test_impossible_date_is_a_configuration_error_with_line(tmp_path: Path) -> None:
    error = error_of(tmp_path, PYTHON_WEB + "    plan: 2024-13-45\n")
    assert error.where is not None and error.where.line == 7


# -- properties -------------------------------------------------------------------------


def _check_load(text: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "render.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        try:
            blueprint = load_blueprint(path, repo_root=Path(directory))
        except ConfigurationError:
            return
        assert isinstance(blueprint, Blueprint)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_gives_a_blueprint_or_a_configuration_error(text: str) -> None:
    _check_load(text)


KEYS = st.sampled_from(
    [
        "services",
        "envVarGroups",
        "projects",
        "environments",
        "ungrouped",
        "databases",
        "type",
        "name",
        "runtime",
        "env",
        "buildCommand",
        "startCommand",
        "rootDir",
        "envVars",
        "key",
        "value",
        "generateValue",
        "sync",
        "fromGroup",
        "fromDatabase",
        "fromService",
        "property",
        "envVarKey",
        "pythonVersion",
        "plan",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.sampled_from(
        ["web", "python", "node", "keyvalue", "worker", "shared", "db", ".", "..", "/x"]
    ),
    st.text(max_size=10),
)
STRUCTURES: st.SearchStrategy[Any] = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(KEYS, children, max_size=6),
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, STRUCTURES, max_size=4))
def test_any_yaml_structure_gives_a_blueprint_or_a_configuration_error(data: Any) -> None:
    _check_load(yaml.safe_dump(data))
