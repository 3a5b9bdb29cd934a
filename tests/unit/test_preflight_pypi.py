"""`render-sim check` on the shipped example against the real PyPI (marked `network`)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from packaging.version import Version

from simulator.check.preflight import check_repo
from simulator.diagnose.diagnosis import Pin, SetEnv
from simulator.plan.models import Options

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "fastapi-pydantic"


@pytest.mark.network
def test_example_names_pydantic_core_and_both_fixes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RENDER_SIM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RENDER_SIM_CACHE", str(tmp_path / "cache"))
    report = check_repo(EXAMPLE, Options(created=date(2026, 3, 1)))
    assert report.exit_code == 1
    (service,) = report.services
    assert service.python == "3.14.3"
    (build,) = service.source_builds
    assert (build.name, build.version) == ("pydantic-core", "2.23.4")
    assert build.required_by == ("pydantic 2.9.2",)
    actions = [fix.action for fix in build.fixes]
    python_pins = [a for a in actions if isinstance(a, SetEnv) and a.key == "PYTHON_VERSION"]
    assert python_pins and python_pins[0].value.startswith("3.13.")
    upgrades = [a for a in actions if isinstance(a, Pin) and a.package == "pydantic"]
    assert upgrades and upgrades[0].specifier.startswith(">=")
    assert Version(upgrades[0].specifier[2:]) >= Version("2.12.0")
