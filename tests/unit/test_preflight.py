"""`render-sim check` against a local package index: real pip, no PyPI, no Docker.

The index (tests/unit/index_fixture.py) holds tiny wheels and sdists with chosen tags, so each
case knows exactly which release lacks a wheel for which Python.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from index_fixture import CP313, CP314, LocalIndex
from rich.console import Console

from simulator.check.preflight import check_repo, explain_files
from simulator.check.results import CheckReport
from simulator.config import python_releases
from simulator.config.pyproject_deps import poetry_specifier
from simulator.diagnose.diagnosis import Pin, SetEnv
from simulator.errors import ConfigurationError, InputError
from simulator.plan import build_plan as plan_mod
from simulator.plan.models import Options
from simulator.render.target import Target
from simulator.report.check_view import check_to_json, print_check

CREATED = date(2026, 3, 1)  # a service created then gets Render's default Python 3.14.3
NEWEST_313 = python_releases.load_releases().newest("3.13") or "3.13.x"
MUSL314 = "cp314-cp314-musllinux_1_2_x86_64"


def blueprint(build: str = "pip install -r requirements.txt", env: str = "") -> str:
    text = (
        "services:\n"
        "  - type: web\n"
        "    name: app\n"
        "    runtime: python\n"
        f"    buildCommand: {build}\n"
        "    startCommand: python app.py\n"
    )
    if env:
        text += "    envVars:\n" + env
    return text


def write(repo: Path, files: dict[str, str | bytes]) -> Path:
    repo.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        path = repo / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return repo


@pytest.fixture(scope="module")
def index_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The example's shape: demo 2.9.2 pins demo-core 2.23.4, which has cp313 wheels only."""
    index = LocalIndex(tmp_path_factory.mktemp("index"))
    index.add("demo", "2.9.2", requires=["demo-core==2.23.4", "tinydep>=1"])
    index.add("demo", "2.10.0", requires=["demo-core==2.27.0", "tinydep>=1"])
    index.add("demo", "2.12.0", requires=["demo-core==2.41.1", "tinydep>=1"])
    index.add("demo-core", "2.23.4", wheels=[CP313], sdist=True, requires=["tinydep>=1"])
    index.add("demo-core", "2.27.0", wheels=[CP313], sdist=True)
    index.add("demo-core", "2.41.1", wheels=[CP313, CP314], sdist=True)
    index.add("tinydep", "1.0")
    index.add("tinydep", "1.1")
    index.add("purelib", "3.0", requires=["tinydep"])
    index.add("sdistonly", "0.5", wheels=[], sdist=True, requires=["tinydep"])
    index.add("muslonly", "1.0", wheels=[MUSL314], sdist=True)
    # The newest release is an sdist only: Render's pip takes it (and builds it) over 1.0's wheel.
    index.add("fresh", "1.0")
    index.add("fresh", "2.0", wheels=[], sdist=True)
    index.add("legacy", "1.0", wheels=[], sdist=True)  # only wanted on Python < 3.12
    index.add("winonly", "1.0", wheels=["cp314-cp314-win_amd64"])
    with index.serve() as url:
        yield url


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(plan_mod, "crates_io_reachable", lambda: True)
    monkeypatch.setenv("RENDER_SIM_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("RENDER_SIM_CACHE", str(tmp_path / "cache"))

    def no_docker(*args: object, **kwargs: object) -> None:
        raise AssertionError("render-sim check must not talk to Docker")

    import docker

    monkeypatch.setattr(docker, "from_env", no_docker)
    monkeypatch.setattr(docker, "DockerClient", no_docker)


def check(repo: Path, url: str, **options: object) -> CheckReport:
    return check_repo(repo, Options(created=CREATED, **options), index_url=url)  # type: ignore[arg-type]


def names(report: CheckReport) -> list[str]:
    return [build.name for service in report.services for build in service.source_builds]


# -- the example shape ------------------------------------------------------------------------


def test_example_names_demo_core_and_the_fixes(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo", {"render.yaml": blueprint(), "requirements.txt": "demo==2.9.2\n"}
    )
    report = check(repo, index_url)
    assert report.exit_code == 1
    (service,) = report.services
    assert (service.python, service.python_source) == ("3.14.3", "default")
    (build,) = service.source_builds
    assert (build.name, build.version, build.reason) == ("demo-core", "2.23.4", "older-pythons")
    assert build.required_by == ("demo 2.9.2",)
    assert "3.13" in build.wheel_pythons and "cp314" in build.why
    actions = [fix.action for fix in build.fixes]
    assert SetEnv("PYTHON_VERSION", NEWEST_313) in actions
    assert Pin("demo", ">=2.12.0") in actions
    assert all(fix.checked for fix in build.fixes)
    assert service.packages == 3  # demo, demo-core, tinydep (demo-core's own dependency too)


def test_python_313_from_render_yaml_builds_nothing(tmp_path: Path, index_url: str) -> None:
    env = f"      - key: PYTHON_VERSION\n        value: {NEWEST_313}\n"
    repo = write(
        tmp_path / "repo", {"render.yaml": blueprint(env=env), "requirements.txt": "demo==2.9.2\n"}
    )
    report = check(repo, index_url)
    assert report.exit_code == 0
    assert report.services[0].python_source == "PYTHON_VERSION"
    assert names(report) == []


def test_all_wheels_repo_builds_nothing(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo",
        {"render.yaml": blueprint(), "requirements.txt": "demo>=2.12\npurelib\n"},
    )
    report = check(repo, index_url)
    assert report.exit_code == 0, check_to_json(report)
    assert report.services[0].packages == 4
    console = Console(record=True, width=120)
    print_check(report, console)
    assert "nothing will be built from source" in console.export_text()


# -- what counts as a source build ------------------------------------------------------------


def test_reasons_and_newest_release_preference(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(),
            "requirements.txt": "sdistonly\nmuslonly\nfresh\nlegacy; python_version < '3.12'\n",
        },
    )
    report = check(repo, index_url)
    builds = {b.name: b for b in report.services[0].source_builds}
    assert set(builds) == {"sdistonly", "muslonly", "fresh"}  # legacy's marker is false on 3.14
    assert builds["sdistonly"].reason == "sdist-only"
    assert builds["muslonly"].reason == "musllinux-only"
    assert (builds["fresh"].version, builds["fresh"].reason) == ("2.0", "sdist-only")
    assert builds["sdistonly"].direct and builds["sdistonly"].dependencies_known
    # sdistonly's own dependency (read from its PKG-INFO) was resolved too.
    assert report.services[0].packages == 4


def test_release_with_no_file_for_the_target_is_a_problem(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo",
        {"render.yaml": blueprint(), "requirements.txt": "winonly==1.0\ndemo==2.9.2\n"},
    )
    report = check(repo, index_url)
    service = report.services[0]
    assert report.exit_code == 1
    assert any("winonly==1.0" in p.message for p in service.problems)
    assert names(report) == ["demo-core"]  # the resolution went on past the missing release


# -- reading dependencies ---------------------------------------------------------------------


def test_includes_and_constraints_are_followed(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(),
            "requirements.txt": "# app\n-r requirements/base.txt\n-c constraints.txt  # pins\n",
            "requirements/base.txt": "demo \\\n  >=2.0\n--extra-index-url ${EXTRA_INDEX}\n",
            "constraints.txt": "demo==2.9.2\n",
        },
    )
    report = check(repo, index_url)
    service = report.services[0]
    assert names(report) == ["demo-core"]
    assert service.inputs == ("requirements.txt", "requirements/base.txt", "constraints.txt")
    assert any("${EXTRA_INDEX}" in note for note in service.notes)


def test_pip_install_dot_reads_pyproject(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(build="pip install --upgrade pip && pip install ."),
            "pyproject.toml": '[project]\nname = "app"\nversion = "1"\ndependencies = ["demo==2.9.2"]\n',
        },
    )
    report = check(repo, index_url)
    assert names(report) == ["demo-core"]
    assert report.services[0].inputs == ("pyproject.toml",)


def test_poetry_pyproject_without_lock_is_resolved(tmp_path: Path, index_url: str) -> None:
    pyproject = (
        '[tool.poetry]\nname = "app"\nversion = "1"\n\n'
        '[tool.poetry.dependencies]\npython = "^3.10"\ndemo = "2.9.2"\n'
        'purelib = {version = "^3.0"}\nwinthing = {version = "*", markers = "sys_platform == \'win32\'"}\n'
    )
    repo = write(
        tmp_path / "repo",
        {"render.yaml": blueprint(build="poetry install --only main"), "pyproject.toml": pyproject},
    )
    report = check(repo, index_url)
    assert names(report) == ["demo-core"]


UV_LOCK = """\
version = 1
revision = 2
requires-python = ">=3.12"

[[package]]
name = "app"
version = "0.1.0"
source = { virtual = "." }
dependencies = [
    { name = "demo" },
    { name = "winonly", marker = "sys_platform == 'win32'" },
]

[package.dev-dependencies]
dev = [{ name = "purelib" }]

[[package]]
name = "demo"
version = "2.9.2"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "demo-core" }]
wheels = [{ url = "https://files.example/demo-2.9.2-py3-none-any.whl", hash = "sha256:00" }]

[[package]]
name = "demo-core"
version = "2.23.4"
source = { registry = "https://pypi.org/simple" }
sdist = { url = "https://files.example/demo_core-2.23.4.tar.gz", hash = "sha256:00" }
wheels = [
    { url = "https://files.example/demo_core-2.23.4-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:00" },
]

[[package]]
name = "purelib"
version = "3.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/purelib-3.0-py3-none-any.whl", hash = "sha256:00" }]

[[package]]
name = "winonly"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/winonly-1.0-cp314-cp314-win_amd64.whl", hash = "sha256:00" }]
"""


def test_uv_lock_is_read_per_locked_version(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo",
        {"render.yaml": blueprint(build="uv sync --frozen"), "uv.lock": UV_LOCK},
    )
    report = check(repo, index_url)
    service = report.services[0]
    assert service.method == "uv.lock"
    assert service.packages == 3  # demo, demo-core, purelib (dev group); not the win32 one
    (build,) = service.source_builds
    assert (build.name, build.version, build.required_by) == (
        "demo-core",
        "2.23.4",
        ("demo 2.9.2",),
    )
    assert Pin("demo", ">=2.12.0") in [fix.action for fix in build.fixes]


POETRY_LOCK = """\
[[package]]
name = "demo"
version = "2.9.2"
optional = false
python-versions = ">=3.8"
files = [{file = "demo-2.9.2-py3-none-any.whl", hash = "sha256:00"}]

[package.dependencies]
demo-core = "2.23.4"
winonly = {version = "1.0", markers = "sys_platform == \\"win32\\""}

[[package]]
name = "demo-core"
version = "2.23.4"
optional = false
python-versions = ">=3.8"
files = [
    {file = "demo_core-2.23.4-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:00"},
    {file = "demo_core-2.23.4.tar.gz", hash = "sha256:00"},
]

[[package]]
name = "winonly"
version = "1.0"
optional = false
python-versions = "*"
files = [{file = "winonly-1.0-cp314-cp314-win_amd64.whl", hash = "sha256:00"}]

[metadata]
lock-version = "2.0"
python-versions = "^3.10"
content-hash = "0"
"""


def test_poetry_lock_is_read(tmp_path: Path, index_url: str) -> None:
    pyproject = (
        '[tool.poetry]\nname = "app"\nversion = "1"\n\n'
        '[tool.poetry.dependencies]\npython = "^3.10"\ndemo = "2.9.2"\n'
    )
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(build="poetry install --no-root"),
            "pyproject.toml": pyproject,
            "poetry.lock": POETRY_LOCK,
        },
    )
    report = check(repo, index_url)
    service = report.services[0]
    assert service.method == "poetry.lock"
    assert [b.name for b in service.source_builds] == ["demo-core"]
    assert service.packages == 2
    assert service.problems == ()


# -- bad inputs: a clear error and an exit code -----------------------------------------------


@pytest.mark.parametrize(
    ("files", "error", "code", "words"),
    [
        ({"requirements.txt": ""}, InputError, 6, "requirements.txt is empty"),
        ({"requirements.txt": "# nothing\n\n"}, InputError, 6, "lists no requirements"),
        ({"requirements.txt": b"\x89PNG\r\n\x1a\n\x00\x00"}, InputError, 6, "binary file"),
        ({"requirements.txt": b"demo\xff\xfe==1\n"}, InputError, 6, "not UTF-8"),
        (
            {"requirements.txt": "-r missing.txt\n"},
            ConfigurationError,
            2,
            "missing.txt does not exist",
        ),
        ({"requirements.txt": "demo=1.0\n"}, ConfigurationError, 2, "not a valid requirement"),
    ],
)
def test_bad_requirements(
    tmp_path: Path,
    index_url: str,
    files: dict[str, str | bytes],
    error: type[Exception],
    code: int,
    words: str,
) -> None:
    repo = write(tmp_path / "repo", {"render.yaml": blueprint(), **files})
    with pytest.raises(error) as raised:
        check(repo, index_url)
    assert words in str(raised.value)
    assert raised.value.return_code == code  # type: ignore[attr-defined]


def test_missing_requirements_file_is_a_problem_of_the_check(
    tmp_path: Path, index_url: str
) -> None:
    repo = write(
        tmp_path / "repo", {"render.yaml": blueprint(build="pip install -r reqs/prod.txt")}
    )
    report = check(repo, index_url)
    (service,) = report.services
    assert report.exit_code == 1
    assert [p.message for p in service.problems] == [
        "the requirements file reqs/prod.txt does not exist in the repo root, where the "
        "command runs: the build fails there"
    ]


@pytest.mark.parametrize(
    ("name", "text", "build", "words"),
    [
        (
            "uv.lock",
            UV_LOCK.replace("version = 1\n", "version = 7\n", 1),
            "uv sync",
            "version 7 is not one",
        ),
        ("uv.lock", "version = [\n", "uv sync", "not valid TOML"),
        ("poetry.lock", POETRY_LOCK.replace('"2.0"', '"9.9"'), "poetry install", "'9.9'"),
    ],
)
def test_bad_lockfiles(
    tmp_path: Path, index_url: str, name: str, text: str, build: str, words: str
) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(build=build),
            name: text,
            "pyproject.toml": '[project]\nname="a"\n',
        },
    )
    with pytest.raises(ConfigurationError) as raised:
        check(repo, index_url)
    assert words in str(raised.value)
    assert raised.value.return_code == 2


def test_empty_lockfile_is_an_input_error(tmp_path: Path, index_url: str) -> None:
    repo = write(tmp_path / "repo", {"render.yaml": blueprint(build="uv sync"), "uv.lock": "\n"})
    with pytest.raises(InputError, match="uv.lock is empty"):
        check(repo, index_url)


# -- the plan's warnings, the repo without render.yaml, the JSON -------------------------------


def test_runtime_txt_warning_is_carried(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(),
            "requirements.txt": "purelib\n",
            "runtime.txt": "python-3.11.9\n",
        },
    )
    report = check(repo, index_url)
    assert report.exit_code == 0
    assert any("runtime.txt is ignored" in w for w in report.services[0].warnings)
    console = Console(record=True, width=200)
    print_check(report, console)
    assert "runtime.txt is ignored" in console.export_text()


def test_repo_without_blueprint_uses_its_requirements(tmp_path: Path, index_url: str) -> None:
    repo = write(tmp_path / "repo", {"requirements.txt": "demo==2.9.2\n"})
    report = check(repo, index_url)
    service = report.services[0]
    assert service.build_command == "pip install -r requirements.txt"
    assert names(report) == ["demo-core"]
    assert any("no render.yaml" in note for note in service.notes)


def test_json_and_text_views(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo", {"render.yaml": blueprint(), "requirements.txt": "demo==2.9.2\n"}
    )
    report = check(repo, index_url)
    data = json.loads(json.dumps(check_to_json(report)))
    assert data["exit_code"] == 1 and data["ok"] is False
    build = data["services"][0]["source_builds"][0]
    assert (build["name"], build["version"], build["reason"]) == (
        "demo-core",
        "2.23.4",
        "older-pythons",
    )
    assert {"kind": "set-env", "key": "PYTHON_VERSION", "value": NEWEST_313} in [
        fix["action"] for fix in build["fixes"]
    ]
    console = Console(record=True, width=120)
    print_check(report, console)
    text = console.export_text()
    assert "demo-core 2.23.4" in text and "1 source build" in text
    assert f"PYTHON_VERSION={NEWEST_313}" in text


# -- pure helpers -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("^1.2.3", ">=1.2.3,<2"),
        ("^0.2.3", ">=0.2.3,<0.3"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("2.9.2", "==2.9.2"),
        ("1.2.*", "==1.2.*"),
        (">=1,<2", ">=1,<2"),
        ("*", None),
        ("^1 || ^2", None),
    ],
)
def test_poetry_specifier(spec: str, expected: str | None) -> None:
    assert poetry_specifier(spec) == expected


def test_explain_files_reasons() -> None:
    target = Target("3.14.3")
    glibc_239 = "x-1.0-cp314-cp314-manylinux_2_39_x86_64.whl"
    assert explain_files("x", "1.0", [glibc_239, "x-1.0.tar.gz"], target)[0] == "glibc-too-new"
    mac = "x-1.0-cp314-cp314-macosx_11_0_arm64.whl"
    assert explain_files("x", "1.0", [mac, "x-1.0.tar.gz"], target)[0] == "other-platforms"
    assert "manylinux_2_17_x86_64" in Target("3.14.3").platforms()
    assert Target("3.14.3").platforms()[0] == "manylinux_2_36_x86_64"


def test_vcs_requirement_is_a_source_build(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(),
            "requirements.txt": "purelib\ngit+https://example.invalid/team/tool.git@v1#egg=tool\n",
        },
    )
    report = check(repo, index_url)
    (build,) = report.services[0].source_builds
    assert (build.name, build.reason, build.dependencies_known) == (
        "tool",
        "direct-reference",
        False,
    )
    assert report.exit_code == 1


def test_unreachable_index_is_a_clear_error(tmp_path: Path) -> None:
    repo = write(tmp_path / "repo", {"render.yaml": blueprint(), "requirements.txt": "purelib\n"})
    with pytest.raises(InputError, match="cannot read the package index") as raised:
        check(repo, "http://127.0.0.1:9/simple")
    assert raised.value.return_code == 6


def test_build_script_cd_and_hashes(tmp_path: Path, index_url: str) -> None:
    repo = write(
        tmp_path / "repo",
        {
            "render.yaml": blueprint(build="./build.sh"),
            "build.sh": "#!/usr/bin/env bash\nset -o errexit\npip install --upgrade pip\n"
            "cd backend && pip install -r requirements.txt\npython manage.py collectstatic\n",
            "backend/requirements.txt": "demo==2.9.2 \\\n    --hash=sha256:0000\n",
        },
    )
    report = check(repo, index_url)
    service = report.services[0]
    assert names(report) == ["demo-core"]
    assert service.inputs == ("backend/requirements.txt",)
    assert any("build.sh" in note for note in service.notes)


def test_root_dir_and_no_binary(tmp_path: Path, index_url: str) -> None:
    text = blueprint().replace("    runtime: python\n", "    runtime: python\n    rootDir: api\n")
    repo = write(
        tmp_path / "repo",
        {"render.yaml": text, "api/requirements.txt": "--no-binary purelib\npurelib\n"},
    )
    report = check(repo, index_url)
    service = report.services[0]
    assert service.root_dir == "api" and service.inputs == ("api/requirements.txt",)
    (build,) = service.source_builds
    assert (build.name, build.reason, build.fixes) == ("purelib", "no-binary", ())


@pytest.mark.parametrize(
    ("files", "build"),
    [
        ({"uv.lock": 'version = 1\npackage = [{name = "a", source = "x"}]\n'}, "uv sync"),
        ({"pyproject.toml": '[project]\nname = "a"\ndependencies = "demo"\n'}, "pip install ."),
    ],
)
def test_wrongly_shaped_files_are_configuration_errors(
    tmp_path: Path, index_url: str, files: dict[str, str | bytes], build: str
) -> None:
    repo = write(tmp_path / "repo", {"render.yaml": blueprint(build=build), **files})
    with pytest.raises(ConfigurationError) as raised:
        check(repo, index_url)
    assert raised.value.return_code == 2
