"""No fix may be nonsense for its case: each fix generator of simulator/fixes.py, given a case it
does not fit, gives no fix (or words that fit), never a text with a gap or a wrong claim."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from index_fixture import LocalIndex

from simulator.check.service import render_versions
from simulator.diagnose.catalogue import load_rules
from simulator.diagnose.conflict import Conflict
from simulator.diagnose.diagnosis import DiagnosisContext, Fix, PackageRef, PythonInfo
from simulator.diagnose.fix_inputs import FixInputs
from simulator.diagnose.fixes import build_fixes
from simulator.diagnose.python_in_log import python_fields
from simulator.diagnose.rules import FixTemplate
from simulator.diagnose.scan import ScannedLog
from simulator.index.client import PackageIndex

CP312 = "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64"
CP314 = "cp314-cp314-manylinux_2_17_x86_64.manylinux2014_x86_64"


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PackageIndex]:
    local = LocalIndex(tmp_path_factory.mktemp("index"))
    local.add("install", "1.3.5")  # py3-none-any: installs on every Python
    local.add("legacy", "1.0", wheels=[CP312])  # no Requires-Python, cp312 wheels only
    local.add("oldc", "1.0", wheels=[], sdist=True)
    local.add("oldc", "2.0")  # its first wheel is pure Python
    with local.serve() as url:
        yield PackageIndex(url, cache_dir=tmp_path_factory.mktemp("cache"), simple_only=True)


def fixes(
    failure_class: str,
    template: FixTemplate,
    *,
    package: str | None = "demo",
    version: str | None = "1.0",
    python: str | None = "3.14.3",
    log: str = "",
    command: str | None = "pip install -r requirements.txt",
    index: PackageIndex | None = None,
    conflict: Conflict | None = None,
) -> list[Fix]:
    catalogue = load_rules()
    rule = catalogue.rule(failure_class)
    info = PythonInfo(python, "context", None, "default") if python else None
    ref = PackageRef(package, version) if package else None
    fields = dict(rule.defaults)
    fields.update(python_fields(info))
    fields.update(
        package=package or "",
        package_label=str(ref) if ref else "a package",
        version=version or "",
        build_command=command or "",
        index_name="the index",
        conflict="",
        download_note="",
    )
    context = DiagnosisContext(render_versions=render_versions(), build_command=command)
    inputs = FixInputs(
        catalogue, ScannedLog(log), fields, ref, info, context, index, None, conflict
    )
    return build_fixes([template], inputs)


def texts(found: list[Fix]) -> str:
    return "\n".join(f"{fix.title}\n{fix.detail}" for fix in found)


def test_no_match_proposes_no_python_when_the_release_installs_on_the_build_python(
    index: PackageIndex,
) -> None:
    # "install 1.3.5" is what a log with a renamed package reads as: the Python is not why
    found = fixes(
        "no-matching-distribution",
        FixTemplate(generator="no-match"),
        package="install",
        version="1.3.5",
        log="ERROR: No matching distribution found for install==1.3.5",
        index=index,
    )
    assert "Use Python" not in texts(found)
    assert "requires Python any" not in texts(found)


def test_no_match_names_the_wheels_when_the_release_has_no_requires_python(
    index: PackageIndex,
) -> None:
    (fix,) = fixes(
        "no-matching-distribution",
        FixTemplate(generator="no-match"),
        package="legacy",
        version="1.0",
        log="ERROR: No matching distribution found for legacy==1.0",
        index=index,
    )
    assert fix.title == "Use Python 3.12, which legacy 1.0 supports"
    assert "requires Python 3.12 (its wheels are built for those only)" in fix.detail


def test_no_match_suggests_no_newer_python_than_the_newest(index: PackageIndex) -> None:
    newest = max(render_versions(), key=lambda m: tuple(map(int, m.split("."))))
    found = fixes(
        "no-matching-distribution",
        FixTemplate(generator="no-match"),
        package="ghost",
        version="1.0",
        python=render_versions()[newest],
        log="ERROR: Could not find a version that satisfies the requirement ghost==1.0 "
        "(from versions: none)\nERROR: No matching distribution found for ghost==1.0",
    )
    assert f"e.g. {newest}" not in texts(found)


def test_older_python_gives_nothing_below_the_oldest_python() -> None:
    found = fixes("no-wheel-python-too-new", FixTemplate(generator="older-python"), python="3.7.17")
    assert found == []


def test_upgrade_to_a_pure_python_wheel_is_not_called_manylinux(index: PackageIndex) -> None:
    (fix,) = fixes(
        "no-wheel-python-too-new",
        FixTemplate(generator="upgrade"),
        package="oldc",
        version="1.0",
        index=index,
    )
    assert "a pure-Python wheel (py3-none-any)" in fix.detail
    assert "manylinux" not in fix.detail


def test_conflict_upgrade_without_a_conflict_gives_nothing(index: PackageIndex) -> None:
    assert fixes("resolver-conflict", FixTemplate(generator="conflict-upgrade"), index=index) == []


def test_conflict_align_without_what_the_other_side_accepts_gives_nothing() -> None:
    conflict = Conflict("web", "1.0", "model", "", "model==2.0")
    assert (
        fixes("resolver-conflict", FixTemplate(generator="conflict-align"), conflict=conflict) == []
    )


def test_drop_system_flag_gives_nothing_for_a_command_without_it() -> None:
    template = FixTemplate(generator="drop-system-flag", title="Drop --system", detail="d")
    assert fixes("readonly-system-site-packages", template) == []


def test_no_cache_dir_gives_nothing_when_the_command_has_it() -> None:
    template = FixTemplate(
        generator="no-cache-dir", title="Install with --no-cache-dir", detail="d"
    )
    command = "pip install --no-cache-dir -r requirements.txt"
    assert fixes("out-of-memory", template, command=command) == []


def test_a_static_fix_has_no_gap_where_the_log_shows_no_python() -> None:
    rule = load_rules().rule("missing-system-library")
    found = fixes("missing-system-library", rule.fixes[1], python=None, package="psycopg2")
    assert "Python  " not in texts(found) and "Python (" not in texts(found)
    assert "wheels for this Python version (or" in texts(found)


def test_every_generator_is_tried_here() -> None:
    """A new generator gets its case it does not fit in this file."""
    from simulator.diagnose.catalogue_schema import GENERATORS

    tried = Path(__file__).read_text()
    assert all(f'generator="{name}"' in tried for name in GENERATORS)
