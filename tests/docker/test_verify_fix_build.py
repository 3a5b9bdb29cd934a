"""`render-sim simulate --verify-fix` on real builds: the fix is applied to a copy and rebuilt.

The repos here need no package index: pip installs from a local `--find-links` page whose
anchors carry `data-requires-python`, exactly as an index's would, so pip fails for real with
"Ignored the following versions that require a different python version" or "from versions:",
and the diagnosis proposes a fix with an action. The last test runs the shipped example, which
needs PyPI (marked `network`).
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import json
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from simulator.config.python_releases import load_releases
from simulator.report.schemas import schema_for

pytestmark = [pytest.mark.docker]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
NEWEST_313 = load_releases().newest("3.13")  # what the diagnosis pins PYTHON_VERSION to
INSTALL = "pip install --no-index --find-links wheels/index.html -r requirements.txt"
CREATED = "2026-03-01"  # Render's default Python for services created then: 3.14.3


def wheel(name: str, version: str) -> bytes:
    """A minimal pure-Python wheel (METADATA, WHEEL, RECORD with hashes) that pip installs."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}/__init__.py": f"__version__ = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: render-sim-tests\n"
        "Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            data = text.encode()
            archive.writestr(path, data)
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
            record.append(f"{path},sha256={digest.decode()},{len(data)}")
        record.append(f"{dist}/RECORD,,")
        archive.writestr(f"{dist}/RECORD", "\n".join(record) + "\n")
    return buffer.getvalue()


def wheel_files(releases: dict[str, str | None]) -> dict[str, str | bytes]:
    """`wheels/` with one wheel per release of `demo` and an index page whose anchors carry
    each release's Requires-Python (None: any)."""
    out: dict[str, str | bytes] = {}
    anchors = []
    for version, requires_python in releases.items():
        name = f"demo-{version}-py3-none-any.whl"
        out[f"wheels/{name}"] = wheel("demo", version)
        attribute = (
            f' data-requires-python="{html.escape(requires_python)}"' if requires_python else ""
        )
        anchors.append(f'<a href="{name}"{attribute}>{name}</a>')
    out["wheels/index.html"] = "<html><body>\n" + "\n".join(anchors) + "\n</body></html>\n"
    return out


def _explain(proc: subprocess.CompletedProcess[str]) -> str:
    return (
        f"exit {proc.returncode}\n--- stdout ---\n{proc.stdout[-6000:]}\n"
        f"--- stderr ---\n{proc.stderr[-4000:]}"
    )


def _json(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"no JSON on stdout\n{_explain(proc)}") from None


class Run:
    """One `simulate --verify-fix` run on its own repo, with the repo before and after."""

    def __init__(
        self,
        proc: subprocess.CompletedProcess[str],
        repo: Path,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> None:
        self.proc, self.repo, self.before, self.after = proc, repo, before, after

    def json(self) -> dict[str, Any]:
        return _json(self.proc)

    def explain(self) -> str:
        return _explain(self.proc)


@pytest.fixture(scope="module")
def verify_run(
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tree_snapshot: Callable[[Path], dict[str, Any]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Callable[..., Run]:
    """`verify_run(name, build_command, files, *options)`: write a repo, run simulate on it."""
    root = tmp_path_factory.mktemp("verify-fix")
    runs: dict[str, Run] = {}

    def run(name: str, build_command: str, files: dict[str, str | bytes], *options: str) -> Run:
        if name not in runs:
            repo = repo_writer(root / name, build_command, service=f"{name}-svc", files=files)
            before = tree_snapshot(repo)
            proc = render_sim(
                "simulate", str(repo), "--verify-fix", "--no-pull", "--offline",
                "--created", CREATED, *options,
            )  # fmt: skip
            runs[name] = Run(proc, repo, before, tree_snapshot(repo))
        return runs[name]

    return run


REQUIRES_PYTHON = {
    **wheel_files({"1.0": "<3.14"}),
    "requirements.txt": "demo==1.0\n",
}


@pytest.fixture(scope="module")
def python_run(verify_run: Callable[..., Run]) -> Run:
    """demo 1.0 requires Python <3.14 and the service runs Render's default 3.14.3."""
    return verify_run("requires-python", INSTALL, REQUIRES_PYTHON, "--json")


def test_python_fix_is_verified_and_exits_0(python_run: Run) -> None:
    assert python_run.proc.returncode == 0, python_run.explain()
    verify = python_run.json()["verify_fix"]
    assert verify["status"] == "verified" and verify["verified"] is True, verify
    assert verify["message"] == f"verified: the build passes with PYTHON_VERSION={NEWEST_313}"


def test_verify_fix_json_meets_the_simulate_schema(python_run: Run) -> None:
    Draft202012Validator(schema_for("simulate")).validate(python_run.json())


def test_the_repo_as_it_is_still_fails(python_run: Run) -> None:
    data = python_run.json()
    (result,) = data["results"]
    assert result["outcome"] == "failed", python_run.explain()
    assert result["python"]["render"] == "3.14.3"
    assert result["diagnosis"]["class"] == "no-matching-distribution"
    assert data["verify_fix"]["original"]["outcome"] == "failed"


def test_python_fix_is_the_diagnosis_first_fix(python_run: Run) -> None:
    data = python_run.json()
    first = data["results"][0]["diagnosis"]["fixes"][0]
    verify = data["verify_fix"]
    assert verify["fix_number"] == 1
    assert verify["fix"] == first
    assert first["action"] == {"kind": "set-env", "key": "PYTHON_VERSION", "value": NEWEST_313}


def test_rebuild_runs_the_pinned_python_and_succeeds(python_run: Run) -> None:
    rebuilt = python_run.json()["verify_fix"]["result"]
    assert rebuilt["outcome"] == "succeeded", python_run.explain()
    assert rebuilt["python"]["render"] == NEWEST_313
    assert rebuilt["python"]["here"].startswith("3.13.")
    log = Path(rebuilt["log_path"]).read_text(encoding="utf-8")
    assert f"Using Python version {NEWEST_313} via environment variable PYTHON_VERSION" in log
    assert "Successfully installed demo-1.0" in log


def test_python_fix_tells_the_render_yaml_change(python_run: Run) -> None:
    change = python_run.json()["verify_fix"]["change"]
    assert change["instructions"].startswith(
        "add to render.yaml, under service requires-python-svc, envVars:\n"
        f"  - key: PYTHON_VERSION\n    value: {NEWEST_313}\n"
    )
    assert change["files"] == [] and change["diff"] == ""


def test_python_fix_leaves_the_repo_untouched(python_run: Run) -> None:
    assert python_run.after == python_run.before


@pytest.fixture(scope="module")
def pin_run(verify_run: Callable[..., Run]) -> Run:
    """demo==2.0 does not exist; 1.0 and 1.1 do: the first fix pins demo==1.1 (human output)."""
    files = {
        **wheel_files({"1.0": None, "1.1": None}),
        "requirements.txt": "# the app's one dependency\ndemo==2.0\n",
    }
    return verify_run("pin", INSTALL, files)


def test_pin_fix_is_verified_with_its_diff(pin_run: Run) -> None:
    out = pin_run.proc.stdout
    assert pin_run.proc.returncode == 0, pin_run.explain()
    assert "✓ verified: the build passes with demo==1.1" in out, pin_run.explain()
    assert "The repo as it is fails (failed, above)" in out
    assert "in requirements.txt, line 2, change demo==2.0 to demo==1.1" in out
    diff = out[out.index("--- a/requirements.txt") :].splitlines()
    assert diff[:6] == [
        "--- a/requirements.txt",
        "+++ b/requirements.txt",
        "@@ -1,2 +1,2 @@",
        " # the app's one dependency",
        "-demo==2.0",
        "+demo==1.1",
    ]


def test_pin_fix_rebuild_installs_the_pinned_release(pin_run: Run) -> None:
    assert "Successfully installed demo-1.1" in pin_run.proc.stdout, pin_run.explain()
    assert "No matching distribution found for demo==2.0" in pin_run.proc.stdout


def test_pin_fix_leaves_the_requirements_file_as_it_was(pin_run: Run) -> None:
    assert pin_run.after == pin_run.before
    assert (pin_run.repo / "requirements.txt").read_text() == (
        "# the app's one dependency\ndemo==2.0\n"
    )


def test_fix_that_does_not_help_is_not_verified(verify_run: Callable[..., Run]) -> None:
    # demo installs on 3.13, and then the build insists on 3.12
    check = "python -c 'import sys; sys.exit(sys.version_info[:2] != (3, 12))'"
    run = verify_run("still-fails", f"{INSTALL} && {check}", REQUIRES_PYTHON, "--json")
    assert run.proc.returncode == 1, run.explain()
    verify = run.json()["verify_fix"]
    assert verify["status"] == "still-fails"
    assert verify["result"]["outcome"] == "failed"
    assert verify["result"]["python"]["render"] == NEWEST_313
    headline = verify["result"]["diagnosis"]["headline"]
    assert verify["message"] == f"not verified: still fails: {headline}"
    assert f"✗ not verified: still fails: {headline}" in run.proc.stderr


def test_no_fix_with_an_action_says_so_and_exits_1(verify_run: Callable[..., Run]) -> None:
    run = verify_run("no-action", "echo giving up && exit 3", {}, "--json")
    assert run.proc.returncode == 1, run.explain()
    data = run.json()
    assert data["results"][0]["outcome"] == "failed"
    fixes = data["results"][0]["diagnosis"]["fixes"]
    assert all(fix["action"] is None for fix in fixes), fixes
    assert data["verify_fix"]["status"] == "no-action"
    assert data["verify_fix"]["result"] is None
    assert "none has an action" in run.proc.stderr


def test_a_fix_that_gets_further_is_extended_and_reported_whole(
    verify_run: Callable[..., Run],
) -> None:
    """Python 3.13 gets demo installed, then other==2.0 fails (1.1 exists): the change is
    extended with the pin and built again, and reported as one diff with render.yaml's part."""
    files = {
        **wheel_files({"1.0": "<3.14"}),
        "wheels/other-1.1-py3-none-any.whl": wheel("other", "1.1"),
        "requirements.txt": "demo==1.0\nother==2.0\n",
    }
    files["wheels/index.html"] = str(files["wheels/index.html"]).replace(
        "</body>", '<a href="other-1.1-py3-none-any.whl">other-1.1-py3-none-any.whl</a>\n</body>'
    )
    run = verify_run("extended", INSTALL, files, "--json")
    assert run.proc.returncode == 0, run.explain()
    verify = run.json()["verify_fix"]
    assert verify["message"] == (
        f"verified: the build passes with PYTHON_VERSION={NEWEST_313} and other==1.1"
    )
    (attempt,) = verify["attempts"]
    assert attempt["rounds"] == 2 and attempt["status"] == "passed"
    diff = verify["change"]["diff"]
    assert "+other==1.1" in diff and "-other==2.0" in diff
    assert f"+      - key: PYTHON_VERSION\n+        value: {NEWEST_313}" in diff
    assert run.after == run.before


def test_a_build_that_passes_needs_no_verification(verify_run: Callable[..., Run]) -> None:
    run = verify_run("passes", INSTALL, wheel_files({"1.0": None}) | {"requirements.txt": "demo"})
    assert run.proc.returncode == 0, run.explain()
    assert "nothing to verify: the build succeeded as it is" in run.proc.stdout


@pytest.mark.network
def test_example_turns_green_with_a_pinned_python(
    built_images: dict[str, Any],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tree_snapshot: Callable[[Path], dict[str, Any]],
) -> None:
    """The case behind render-sim: pydantic 2.9.2 on the default 3.14.3 fails; 3.13 passes."""
    example = PROJECT_ROOT / "examples" / "fastapi-pydantic"
    before = tree_snapshot(example)
    proc = render_sim(
        "simulate", "examples/fastapi-pydantic", "--verify-fix", "--no-pull", "--created", CREATED,
        cwd=PROJECT_ROOT,
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, _explain(proc)
    assert "==> Using Python version 3.14.3 (default)" in out
    assert "Collecting pydantic-core==2.23.4" in out and "==> Build failed 😞" in out
    assert f"Using Python version {NEWEST_313} via environment variable PYTHON_VERSION" in out
    assert "pydantic_core-2.23.4-cp313-cp313-manylinux" in out
    assert "==> Build successful 🎉" in out
    assert f"✓ verified: the build passes with PYTHON_VERSION={NEWEST_313}" in out, _explain(proc)
    assert "The repo as it is fails (failed, above)" in out
    assert f"  - key: PYTHON_VERSION\n      value: {NEWEST_313}" in out
    assert tree_snapshot(example) == before
