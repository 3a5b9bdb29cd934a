"""One index client: every request render-sim makes to a package index goes through
`simulator.index.session`, so the fix checker, `check` (the stand-in index in front of pip) and
the planner behind `--verify-fix` trust the same CA bundle and retry the same way.

The index is a real HTTPS server on 127.0.0.1 with a self-signed certificate that only
`$PIP_CERT` names, as on a host behind a TLS-re-signing proxy set up for pip.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Mapping
from datetime import date
from pathlib import Path

import pytest
from index_fixture import CP314, LocalIndex

from simulator.check.planner import PlanInput, plan_fixes
from simulator.check.preflight import check_repo
from simulator.check.service import render_versions
from simulator.config.dep_files import Requirements
from simulator.diagnose.diagnosis import Pin
from simulator.index import session
from simulator.index.client import PackageIndex
from simulator.plan import build_plan as plan_mod
from simulator.plan.models import Options
from simulator.render.target import Target

CREATED = date(2026, 3, 1)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key)."""
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert),
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> LocalIndex:
    found = LocalIndex(tmp_path_factory.mktemp("index"))
    found.add("wheelonly", "1.0")
    found.add("wheelonly", "1.1")
    found.add("compiled", "1.0", wheels=[], sdist=True)
    found.add("compiled", "2.0", wheels=[CP314], sdist=True)
    return found


@pytest.fixture(autouse=True)
def _pip_cert_only(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in session.CA_SOURCES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("RENDER_SIM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RENDER_SIM_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(plan_mod, "crates_io_reachable", lambda: True)


@pytest.fixture
def https_index(
    index: LocalIndex, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    monkeypatch.setenv("PIP_CERT", str(certificate[0]))
    with index.serve(tls=certificate) as url:
        yield url


def _fresh(url: str) -> PackageIndex:
    return PackageIndex(url, cache_dir=None)


def _serve(index: LocalIndex, failures: Mapping[str, tuple[int, int]]) -> Iterator[str]:
    with index.serve(failures=failures) as url:
        yield url


# -- one CA bundle ----------------------------------------------------------------------------


def test_the_ca_bundle_is_found_in_pip_cert_first(tmp_path: Path) -> None:
    pip, ssl = tmp_path / "pip.pem", tmp_path / "ssl.pem"
    pip.write_text("x")
    ssl.write_text("x")
    environ = {"SSL_CERT_FILE": str(ssl), "PIP_CERT": str(pip)}
    assert session.host_ca_bundle(environ) == (pip, "$PIP_CERT")
    assert session.host_ca_bundle({"SSL_CERT_FILE": str(ssl)}) == (ssl, "$SSL_CERT_FILE")
    assert session.host_ca_bundle({"PIP_CERT": str(tmp_path / "missing.pem")}) == (None, "")


def test_the_fix_checker_trusts_pip_cert_alone(https_index: str) -> None:
    versions = _fresh(https_index).versions("wheelonly")
    assert versions.checked
    assert list(versions) == ["1.0", "1.1"]


def test_without_the_bundle_the_fix_checker_says_it_could_not_check(
    index: LocalIndex, certificate: tuple[Path, Path]
) -> None:
    with index.serve(tls=certificate) as url:  # no PIP_CERT: the certificate is unknown
        versions = _fresh(url).versions("wheelonly")
    assert not versions.checked


def test_check_trusts_pip_cert_alone(tmp_path: Path, https_index: str) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "requirements.txt").write_text("wheelonly==1.1\ncompiled==1.0\n")
    options = Options(created=CREATED, build_command="pip install -r requirements.txt")
    report = check_repo(repo, options, index_url=https_index)
    (service,) = report.services
    assert [build.name for build in service.source_builds] == ["compiled"]
    assert service.packages == 2


def test_the_planner_trusts_pip_cert_alone(https_index: str) -> None:
    requirements = Requirements(lines=[("compiled==1.0", "requirements.txt:1")])
    given = PlanInput(
        requirements, Target("3.14.3"), https_index, render_versions=render_versions()
    )
    actions = [fix.action for fix in plan_fixes(given).fixes if fix.checked]
    assert Pin("compiled", ">=2.0") in actions


# -- retries ----------------------------------------------------------------------------------


def test_a_busy_index_is_asked_again(index: LocalIndex) -> None:
    for url in _serve(index, {"/simple/wheelonly/": (503, 2)}):
        versions = _fresh(url).versions("wheelonly")
    assert versions.checked
    assert list(versions) == ["1.0", "1.1"]


def test_an_error_for_one_project_does_not_stop_the_next_question(index: LocalIndex) -> None:
    for url in _serve(index, {"/simple/compiled/": (500, -1)}):
        checker = _fresh(url)
        broken = checker.versions("compiled")
        working = checker.versions("wheelonly")
    assert not broken.checked
    assert working.checked and list(working) == ["1.0", "1.1"]


def test_a_missing_project_is_not_an_error(index: LocalIndex) -> None:
    for url in _serve(index, {}):
        versions = _fresh(url).versions("no-such-project")
    assert versions.checked
    assert list(versions) == []


def test_an_index_that_does_not_answer_is_given_up_for_the_run() -> None:
    checker = _fresh("http://127.0.0.1:9/simple")  # the discard port: connection refused
    assert not checker.versions("wheelonly").checked
    assert not checker.versions("compiled").checked
