"""Which Docker engine render-sim talks to: the docker CLI's order, its context store. No Docker."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from simulator.build import endpoints
from simulator.build.endpoints import connect, connect_all, resolve
from simulator.errors import ConfigurationError, DockerUnavailableError, UsageError
from simulator.report.schemas import command_of

REMOTE = "ssh://ci@builder.example"


def store(
    config: Path, name: str, host: str, *, tls: bool = False, skip_verify: bool = False
) -> None:
    """A context as `docker context create NAME --docker host=HOST` stores it."""
    ident = hashlib.sha256(name.encode()).hexdigest()
    meta = config / "contexts" / "meta" / ident
    meta.mkdir(parents=True)
    (meta / "meta.json").write_text(
        json.dumps(
            {
                "Name": name,
                "Metadata": {"Description": ""},
                "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}},
            }
        )
    )
    if tls:
        material = config / "contexts" / "tls" / ident / "docker"
        material.mkdir(parents=True)
        for file in ("ca.pem", "cert.pem", "key.pem"):
            (material / file).write_text("-----BEGIN CERTIFICATE-----\n")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """An empty docker CLI configuration folder (DOCKER_CONFIG); no config.json in it."""
    folder = tmp_path / "docker-config"
    folder.mkdir()
    return folder


@pytest.fixture(autouse=True)
def _no_chosen_context() -> None:
    endpoints.choose_context(None)


def env(config: Path, **values: str) -> dict[str, str]:
    return {"DOCKER_CONFIG": str(config), **values}


def test_without_settings_the_local_socket_is_used(config: Path) -> None:
    endpoint = resolve(env=env(config))
    assert (endpoint.host, endpoint.source) == (endpoints.DEFAULT_HOST, "default")


def test_docker_host_wins_over_docker_context(config: Path) -> None:
    store(config, "builder", REMOTE)
    endpoint = resolve(env=env(config, DOCKER_HOST="tcp://10.0.0.5:2375", DOCKER_CONTEXT="builder"))
    assert (endpoint.host, endpoint.source) == ("tcp://10.0.0.5:2375", "DOCKER_HOST")


def test_context_option_wins_over_docker_host(config: Path) -> None:
    store(config, "builder", REMOTE)
    endpoint = resolve(context="builder", env=env(config, DOCKER_HOST="tcp://10.0.0.5:2375"))
    assert (endpoint.host, endpoint.context, endpoint.source) == (REMOTE, "builder", "--context")


def test_global_context_option_applies_to_every_connection(config: Path) -> None:
    store(config, "builder", REMOTE)
    endpoints.choose_context("builder")
    assert resolve(env=env(config)).host == REMOTE


def test_docker_context_variable_is_read_from_the_store(config: Path) -> None:
    store(config, "builder", REMOTE)
    endpoint = resolve(env=env(config, DOCKER_CONTEXT="builder"))
    assert (endpoint.host, endpoint.source) == (REMOTE, "DOCKER_CONTEXT")


def test_the_current_context_of_docker_context_use_is_read(config: Path) -> None:
    store(config, "builder", REMOTE)
    (config / "config.json").write_text(json.dumps({"auths": {}, "currentContext": "builder"}))
    endpoint = resolve(env=env(config))
    assert (endpoint.host, endpoint.source) == (REMOTE, "current context")
    assert endpoint.describe() == f"context builder ({REMOTE}), from current context"


def test_the_default_context_is_docker_host_or_the_socket(config: Path) -> None:
    (config / "config.json").write_text(json.dumps({"currentContext": "default"}))
    assert resolve(env=env(config)).host == endpoints.DEFAULT_HOST
    assert resolve("default", env=env(config, DOCKER_HOST="tcp://h:1")).host == "tcp://h:1"


def test_engine_takes_a_url_or_a_context_name(config: Path) -> None:
    store(config, "builder", REMOTE)
    assert resolve("unix:///tmp/other.sock", env=env(config)).host == "unix:///tmp/other.sock"
    assert resolve("builder", env=env(config)).host == REMOTE


def test_an_unknown_context_is_a_usage_error_naming_the_known_ones(config: Path) -> None:
    store(config, "builder", REMOTE)
    with pytest.raises(UsageError) as caught:
        resolve(context="buidler", env=env(config))
    assert "buidler" in str(caught.value)
    assert "builder" in (caught.value.hint or "") and "docker context create" in (
        caught.value.hint or ""
    )


def test_a_context_without_a_docker_endpoint_is_a_configuration_error(config: Path) -> None:
    store(config, "k8s-only", REMOTE)
    meta = next((config / "contexts" / "meta").glob("*/meta.json"))
    meta.write_text(json.dumps({"Name": "k8s-only", "Endpoints": {"kubernetes": {}}}))
    with pytest.raises(ConfigurationError, match="k8s-only"):
        resolve(context="k8s-only", env=env(config))


def test_a_context_s_tls_material_is_used(config: Path) -> None:
    store(config, "secure", "tcp://builder:2376", tls=True)
    endpoint = resolve(context="secure", env=env(config))
    assert endpoint.tls is not None
    assert endpoint.tls.ca_cert and endpoint.tls.ca_cert.endswith("ca.pem")
    assert endpoint.tls.cert and endpoint.tls.cert[0].endswith("cert.pem")
    assert endpoint.tls.verify


def test_engine_and_context_together_is_a_usage_error(config: Path) -> None:
    with pytest.raises(UsageError, match="both --engine"):
        resolve("tcp://a:1", context="builder", env=env(config))


def test_the_same_engine_twice_is_a_usage_error_before_connecting(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    store(config, "local", "unix:///tmp/render-sim-none.sock")
    with pytest.raises(UsageError, match="same engine"):
        connect_all(["unix:///tmp/render-sim-none.sock", "local"])


def test_an_engine_that_does_not_answer_is_named_in_the_error(config: Path) -> None:
    endpoint = resolve("unix:///nonexistent/render-sim-test.sock", env=env(config))
    with pytest.raises(DockerUnavailableError) as caught:
        connect(endpoint)
    assert "unix:///nonexistent/render-sim-test.sock, from --engine" in str(caught.value)
    assert caught.value.hint


def test_a_context_before_the_command_is_not_taken_for_the_command() -> None:
    """`render-sim --context builder doctor --json`: its JSON says "doctor", not "builder"."""
    assert command_of(["--context", "builder", "doctor", "--json"]) == "doctor"
    assert command_of(["--context", "b", "scenarios", "merge", "a.xml"]) == "scenarios merge"
