"""The build plan: env merging, secrets, Render's variables, differences. No Docker."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from simulator.errors import ConfigurationError, NothingToBuildError, UsageError
from simulator.index.session import CA_SOURCES
from simulator.plan import build_plan as plan_mod
from simulator.plan import models as plan_models
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options
from tests.hermetic.tls import make_tls_dir


def write(repo: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text)
    return repo


BLUEPRINT = """
services:
  - type: web
    name: api
    runtime: python
    buildCommand: pip install -r requirements.txt
    startCommand: gunicorn app:app
    envVars:
      - key: DEBUG
        value: "0"
      - key: API_TOKEN
        sync: false
      - key: SECRET_KEY
        generateValue: true
"""


@pytest.fixture(autouse=True)
def _no_network_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_mod, "crates_io_reachable", lambda: False)


def test_default_python_comes_from_creation_date(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    built = make_plan(tmp_path, Options(created=date(2026, 3, 1)))
    assert built.services[0].python.version == "3.14.3"
    assert built.services[0].python.source == "default"


def test_python_option_acts_as_python_version(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    built = make_plan(tmp_path, Options(python="3.13.4"))
    assert built.services[0].python.source == "PYTHON_VERSION"
    assert built.services[0].env["PYTHON_VERSION"] == "3.13.4"


def test_env_file_fills_sync_false_and_is_secret(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    env_file = write(tmp_path / "cfg", {"prod.env": "API_TOKEN=tok-123456\n"}) / "prod.env"
    service = make_plan(tmp_path, Options(env_file=env_file)).services[0]
    assert service.env["API_TOKEN"] == "tok-123456"
    assert "tok-123456" in service.secrets()
    assert service.masked_env()["API_TOKEN"] != "tok-123456"


def test_sync_false_without_env_file_warns(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    service = make_plan(tmp_path, Options()).services[0]
    assert any("API_TOKEN" in w and "--env-file" in w for w in service.warnings)
    assert "API_TOKEN" not in service.env


def test_generated_value_is_masked_in_plan_json(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    service = make_plan(tmp_path, Options()).services[0]
    generated = service.env["SECRET_KEY"]
    assert generated not in str(service.to_dict())


def test_render_variables_are_set(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    env = make_plan(tmp_path, Options()).services[0].build_env()
    assert env["RENDER"] == "true"
    assert env["CI"] == "true"
    assert env["RENDER_SERVICE_NAME"] == "api"
    assert env["RENDER_SERVICE_TYPE"] == "web"
    assert env["VENV_ROOT"] == "/opt/render/project/src/.venv"
    assert env["PATH"].startswith("/opt/render/project/src/.venv/bin:")
    assert env["CARGO_HOME"] == "/usr/local/cargo"


def test_service_env_overrides_render_defaults(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT.replace("DEBUG", "CI")})
    assert make_plan(tmp_path, Options()).services[0].build_env()["CI"] == "0"


def test_unreachable_crates_io_turns_cargo_retries_off_and_says_so(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    service = make_plan(tmp_path, Options()).services[0]
    assert service.build_env()["CARGO_NET_RETRY"] == "0"
    assert any("crates.io" in d and "os error 30" in d for d in service.differences)


def test_reachable_crates_io_keeps_cargo_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(plan_mod, "crates_io_reachable", lambda: True)
    write(tmp_path, {"render.yaml": BLUEPRINT})
    service = make_plan(tmp_path, Options()).services[0]
    assert "CARGO_NET_RETRY" not in service.build_env()


def test_uv_is_planned_only_with_uv_lock(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    assert make_plan(tmp_path, Options()).services[0].uv_version == ""
    write(tmp_path, {"uv.lock": "version = 1\n"})
    assert make_plan(tmp_path, Options(created=date(2026, 3, 1))).services[0].uv_version == "0.10.2"


def test_poetry_default_follows_creation_date(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    assert (
        make_plan(tmp_path, Options(created=date(2025, 1, 1))).services[0].poetry_version == "1.7.1"
    )
    assert (
        make_plan(tmp_path, Options(created=date(2025, 7, 1))).services[0].poetry_version == "2.1.3"
    )


def test_explicit_ca_cert_is_used_and_reported(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    shutil.copy(make_tls_dir(tmp_path / "tls") / "cert.pem", tmp_path / "ca.pem")
    built = make_plan(tmp_path, Options(ca_cert=tmp_path / "ca.pem"))
    assert built.ca_cert == tmp_path / "ca.pem"
    assert built.services[0].build_env()["PIP_CERT"] == plan_models.CA_IN_IMAGE
    assert built.services[0].build_env()["CARGO_HTTP_CAINFO"] == plan_models.CA_IN_IMAGE


def test_ca_cert_is_detected_from_host_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_text("x")
    for name in CA_SOURCES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert plan_mod.find_ca_cert(None) == (bundle, "$SSL_CERT_FILE")


def test_no_ca_disables_detection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PIP_CERT", str(tmp_path))
    assert plan_mod.find_ca_cert(None, disabled=True) == (None, "")


def test_missing_ca_cert_file_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        plan_mod.find_ca_cert(tmp_path / "nope.pem")


def test_repo_without_blueprint_needs_a_build_command(tmp_path: Path) -> None:
    with pytest.raises(NothingToBuildError) as raised:
        make_plan(tmp_path, Options())
    assert raised.value.return_code == 3
    assert "--build-command" in (raised.value.hint or "")


def test_build_command_option_simulates_repo_without_blueprint(tmp_path: Path) -> None:
    service = make_plan(tmp_path, Options(build_command="pip install .")).services[0]
    assert service.build_command == "pip install ."
    assert service.name == tmp_path.name


def test_blueprint_with_only_other_runtimes_is_nothing_to_build(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "render.yaml": "services:\n  - type: web\n    name: site\n    runtime: node\n    buildCommand: npm ci\n"
        },
    )
    with pytest.raises(NothingToBuildError):
        make_plan(tmp_path, Options())


def test_bad_blueprint_is_a_configuration_error(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "render.yaml": BLUEPRINT.replace(
                "    runtime: python\n", "    runtime: python\n    pythonVersion: '3.12'\n"
            )
        },
    )
    with pytest.raises(ConfigurationError) as raised:
        make_plan(tmp_path, Options())
    assert raised.value.return_code == 2
    assert "PYTHON_VERSION" in (raised.value.hint or "")


def test_root_dir_limits_files_and_sets_workdir(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "render.yaml": BLUEPRINT.replace(
                "    runtime: python\n", "    runtime: python\n    rootDir: backend\n"
            ),
            "backend/requirements.txt": "flask\n",
            "frontend/package.json": "{}",
        },
    )
    service = make_plan(tmp_path, Options()).services[0]
    assert service.files == ("backend/requirements.txt",)
    assert service.workdir == "/opt/render/project/src/backend"


def test_limits_other_than_render_are_differences(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    service = make_plan(tmp_path, Options(memory_bytes=512 * 1024**2)).services[0]
    assert any("512 MB" in d and "8 GB" in d for d in service.differences)


def test_runtime_txt_warning_reaches_the_plan(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT, "runtime.txt": "python-3.11.9\n"})
    service = make_plan(tmp_path, Options()).services[0]
    assert any("runtime.txt" in w for w in service.warnings)


def test_render_log_lines_follow_renders_order(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    lines = make_plan(tmp_path, Options(created=date(2026, 3, 1))).services[0].render_log_lines()
    assert lines[0] == "==> Using Python version 3.14.3 (default)"
    assert (
        lines[1]
        == "==> Docs on specifying a Python version: https://render.com/docs/python-version"
    )
    assert lines[-1] == "==> Running build command 'pip install -r requirements.txt'..."


def test_plan_json_has_the_documented_keys(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    data = make_plan(tmp_path, Options()).to_dict()
    service = data["services"][0]
    assert service["name"] == "api"
    assert service["python"]["source"] in {"PYTHON_VERSION", ".python-version", "default"}
    assert service["python"]["version"]
    assert isinstance(data["warnings"], list)


def test_build_cache_is_keyed_by_repo_service_and_python(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    on_314 = make_plan(tmp_path, Options(python="3.14.3")).services[0]
    on_313 = make_plan(tmp_path, Options(python="3.13.4")).services[0]
    assert on_314.cache_key == f"{tmp_path.resolve()}:api:3.14.3"
    assert on_313.cache_key != on_314.cache_key
    assert on_314.to_dict()["build_cache"] is True
    off = make_plan(tmp_path, Options(build_cache=False)).services[0]
    assert off.cache_key == ""
    assert any("no build cache" in d for d in off.differences)
    assert not any("no build cache" in d for d in on_314.differences)


def test_extra_env_and_network_reach_the_service_plan(tmp_path: Path) -> None:
    write(tmp_path, {"render.yaml": BLUEPRINT})
    service = make_plan(tmp_path, Options(env={"FEATURE": "on"}, network="fixtures_net")).services[
        0
    ]
    assert service.build_env()["FEATURE"] == "on"
    assert "FEATURE" not in service.secret_keys
    assert service.network == "fixtures_net"
    assert any("fixtures_net" in d for d in service.differences)
    assert not any("crates.io" in d for d in service.differences)  # no internet: no probe
    assert "CARGO_NET_RETRY" not in service.render_env
    offline = make_plan(tmp_path, Options(network="none")).services[0]
    assert any("no network" in d for d in offline.differences)
