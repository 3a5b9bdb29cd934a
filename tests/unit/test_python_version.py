"""How render-sim chooses the Python version: Render's rules, sources and messages."""

from __future__ import annotations

import importlib.util
import tempfile
from datetime import date, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.config.python_releases import (
    DEFAULTS_FILE,
    RELEASES_FILE,
    CPythonReleases,
    DefaultPython,
    default_for,
    load_defaults,
    load_releases,
)
from simulator.config.python_version import PythonChoice, choose_python
from simulator.config.version_requests import read_python_version_file
from simulator.errors import ConfigurationError, RenderSimError

REPO = Path(__file__).resolve().parents[2]
CREATED = date(2026, 3, 1)  # a service created after the 3.14.3 cut-over


def choose(
    repo: Path,
    env: dict[str, str] | None = None,
    root_dir: str = "",
    created: date | None = CREATED,
) -> PythonChoice:
    return choose_python(env or {}, repo, root_dir=root_dir, created=created)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


# -- sources and precedence ------------------------------------------------------------


def test_default_is_used_when_nothing_is_set(tmp_path: Path) -> None:
    choice = choose(tmp_path)
    assert (choice.version, choice.source) == ("3.14.3", "default")
    assert choice.requested == "default for 2026-03-01"
    assert choice.log_suffix == "(default)"


def test_python_version_file_wins_over_default(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.12.8\n")
    choice = choose(tmp_path)
    assert (choice.version, choice.source, choice.requested) == (
        "3.12.8",
        ".python-version",
        "3.12.8",
    )
    assert choice.log_suffix == "via /opt/render/project/src/.python-version"


def test_env_var_wins_over_default(tmp_path: Path) -> None:
    choice = choose(tmp_path, {"PYTHON_VERSION": "3.11.9"})
    assert (choice.version, choice.source, choice.requested) == (
        "3.11.9",
        "PYTHON_VERSION",
        "3.11.9",
    )
    assert choice.log_suffix == "via environment variable PYTHON_VERSION"


def test_env_var_wins_over_python_version_file(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.12\n")
    choice = choose(tmp_path, {"PYTHON_VERSION": "3.11.9"})
    assert (choice.version, choice.source) == ("3.11.9", "PYTHON_VERSION")


def test_env_var_shadowing_a_different_file_warns(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.12\n")
    choice = choose(tmp_path, {"PYTHON_VERSION": "3.11.9"})
    assert any(".python-version asks for 3.12" in w for w in choice.warnings)


def test_invalid_file_is_not_read_when_env_var_is_set(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "pypy3.10\n")
    assert choose(tmp_path, {"PYTHON_VERSION": "3.11.9"}).version == "3.11.9"


def test_other_env_vars_do_not_matter(tmp_path: Path) -> None:
    assert choose(tmp_path, {"PYTHON_VER": "3.11.9", "POETRY_VERSION": "2.1.3"}).source == "default"


def test_log_line_uses_renders_wording(tmp_path: Path) -> None:
    assert choose(tmp_path).log_line == "==> Using Python version 3.14.3 (default)"
    assert (
        choose(tmp_path, {"PYTHON_VERSION": "3.13.4"}).log_line
        == "==> Using Python version 3.13.4 via environment variable PYTHON_VERSION"
    )


def test_created_none_means_today(tmp_path: Path) -> None:
    choice = choose(tmp_path, created=None)
    assert choice.requested == f"default for {date.today().isoformat()}"
    assert choice.version == default_for(date.today()).version


# -- .python-version --------------------------------------------------------------------


def test_partial_python_version_file_resolves_to_newest_patch(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.12\n")
    choice = choose(tmp_path)
    assert choice.version == load_releases().newest("3.12")
    assert choice.requested == "3.12"


def test_partial_version_uses_the_release_list_given(tmp_path: Path) -> None:
    releases = CPythonReleases(((3, 12, 0), (3, 12, 7)), source="test", updated=date(2025, 1, 1))
    write(tmp_path / ".python-version", "3.12")
    choice = choose_python({}, tmp_path, created=CREATED, releases=releases)
    assert choice.version == "3.12.7"


def test_python_version_file_tolerates_whitespace_and_comments(tmp_path: Path) -> None:
    path = write(tmp_path / ".python-version", "# pinned for numpy\n\n   3.13.4   # comment\n\n")
    assert read_python_version_file(path) == ("3.13.4", "3.13.4")


def test_python_version_file_tolerates_a_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / ".python-version"
    path.write_bytes(b"\xef\xbb\xbf3.13\r\n")
    assert read_python_version_file(path)[0] == "3.13"


@pytest.mark.parametrize(
    ("content", "hint_part"),
    [
        ("python-3.12\n", "number alone"),
        ("3.12.0rc1\n", "final releases only"),
        ("pypy3.10\n", "CPython only"),
        ("3.x\n", "Ranges and wildcards"),
        (">=3.11\n", "Ranges and wildcards"),
        ("3\n", "at least major.minor"),
        ("system\n", "pyenv"),
        ("miniconda3-latest\n", "conda"),
    ],
)
def test_bad_python_version_file_is_a_configuration_error(
    tmp_path: Path, content: str, hint_part: str
) -> None:
    write(tmp_path / ".python-version", content)
    with pytest.raises(ConfigurationError) as caught:
        choose(tmp_path)
    error = caught.value
    assert error.return_code == 2
    assert error.where is not None and error.where.file == ".python-version"
    assert error.where.line == 1
    assert error.hint is not None and hint_part in error.hint


def test_empty_python_version_file_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "\n# nothing\n")
    with pytest.raises(ConfigurationError, match="is empty"):
        choose(tmp_path)


def test_python_version_file_with_two_versions_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.12\n3.11\n")
    with pytest.raises(ConfigurationError, match="single version") as caught:
        choose(tmp_path)
    assert caught.value.where is not None and caught.value.where.line == 2


def test_python_version_file_with_unreleased_version_names_nearest(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.14.99\n")
    with pytest.raises(
        ConfigurationError, match="Could not fetch Python version 3.14.99"
    ) as caught:
        choose(tmp_path)
    assert caught.value.hint is not None
    assert str(load_releases().newest("3.14")) in caught.value.hint


def test_python_version_file_with_unknown_series_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.99\n")
    with pytest.raises(ConfigurationError, match="has no release"):
        choose(tmp_path)


def test_python_version_file_below_minimum_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.6\n")
    with pytest.raises(ConfigurationError, match="older than 3.7.3") as caught:
        choose(tmp_path)
    assert caught.value.hint is not None and "3.7.3" in caught.value.hint


def test_python_version_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    (tmp_path / ".python-version").write_bytes(b"\xff\xfe3\x00.\x001\x002\x00")
    with pytest.raises(ConfigurationError, match="not UTF-8"):
        choose(tmp_path)


@pytest.mark.parametrize("name", [".python_version", "python-version", ".Python-Version"])
def test_misspelled_python_version_file_warns(tmp_path: Path, name: str) -> None:
    write(tmp_path / name, "3.12\n")
    choice = choose(tmp_path)
    assert choice.source == "default"
    assert any(name in w and "exactly" in w for w in choice.warnings)


# -- rootDir ----------------------------------------------------------------------------


def test_python_version_file_in_root_dir_wins_over_repo_root(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.11.9\n")
    write(tmp_path / "backend" / ".python-version", "3.12.8\n")
    choice = choose(tmp_path, root_dir="backend")
    assert choice.version == "3.12.8"
    assert choice.log_suffix == "via /opt/render/project/src/backend/.python-version"


def test_repo_root_python_version_file_is_used_when_root_dir_has_none(tmp_path: Path) -> None:
    write(tmp_path / ".python-version", "3.11.9\n")
    (tmp_path / "backend").mkdir()
    choice = choose(tmp_path, root_dir="backend")
    assert choice.version == "3.11.9"
    assert choice.log_suffix == "via /opt/render/project/src/.python-version"


def test_error_in_root_dir_file_names_its_path(tmp_path: Path) -> None:
    write(tmp_path / "api" / ".python-version", "python-3.12\n")
    with pytest.raises(ConfigurationError) as caught:
        choose(tmp_path, root_dir="api")
    assert caught.value.where is not None and caught.value.where.file == "api/.python-version"


# -- PYTHON_VERSION ---------------------------------------------------------------------


def test_partial_env_var_is_refused_with_renders_message(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError) as caught:
        choose(tmp_path, {"PYTHON_VERSION": "3.11"})
    error = caught.value
    assert error.message.startswith(
        "The PYTHON_VERSION must provide a major, minor, and patch version, e.g. 3.8.1. "
        "You have requested 3.11."
    )
    assert error.hint is not None
    assert f"PYTHON_VERSION={load_releases().newest('3.11')}" in error.hint
    assert ".python-version" in error.hint


@pytest.mark.parametrize("value", ["", "latest", "python-3.12.1", "3.12.1rc1", "3"])
def test_env_var_that_is_not_a_full_version_is_refused(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="must provide a major, minor, and patch"):
        choose(tmp_path, {"PYTHON_VERSION": value})


@pytest.mark.parametrize("value", ["3.7.2", "3.6.15", "2.7.18"])
def test_env_var_below_minimum_is_refused_naming_minimum(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigurationError, match="older than 3.7.3") as caught:
        choose(tmp_path, {"PYTHON_VERSION": value})
    assert caught.value.hint is not None and "PYTHON_VERSION=3.7.3" in caught.value.hint


def test_env_var_minimum_version_is_accepted(tmp_path: Path) -> None:
    assert choose(tmp_path, {"PYTHON_VERSION": "3.7.3"}).version == "3.7.3"


def test_unreleased_env_var_is_refused_naming_nearest_release(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigurationError, match="Could not fetch Python version 3.14.99"
    ) as caught:
        choose(tmp_path, {"PYTHON_VERSION": "3.14.99"})
    assert caught.value.hint is not None
    assert f"PYTHON_VERSION={load_releases().newest('3.14')}" in caught.value.hint
    assert "update_cpython_releases.py" in caught.value.hint


def test_env_var_surrounding_whitespace_is_ignored(tmp_path: Path) -> None:
    assert choose(tmp_path, {"PYTHON_VERSION": " 3.13.4\n"}).version == "3.13.4"


# -- runtime.txt ------------------------------------------------------------------------


def test_runtime_txt_warns_that_render_ignores_it(tmp_path: Path) -> None:
    write(tmp_path / "runtime.txt", "python-3.11.9\n")
    choice = choose(tmp_path)
    assert choice.version == "3.14.3"
    assert (
        "runtime.txt is ignored by Render (it is Heroku's file): it asks for 3.11.9 but Render "
        "will use 3.14.3 (default). Set PYTHON_VERSION=3.11.9 or write .python-version"
    ) in choice.warnings[0]


def test_runtime_txt_warning_names_the_source_that_wins(tmp_path: Path) -> None:
    write(tmp_path / "runtime.txt", "python-3.11.9\n")
    choice = choose(tmp_path, {"PYTHON_VERSION": "3.12.8"})
    assert "Render will use 3.12.8 (via environment variable PYTHON_VERSION)" in choice.warnings[0]


def test_runtime_txt_equal_to_the_choice_still_warns(tmp_path: Path) -> None:
    write(tmp_path / "runtime.txt", "python-3.13.4\n")
    choice = choose(tmp_path, {"PYTHON_VERSION": "3.13.4"})
    assert len(choice.warnings) == 1
    assert "runtime.txt is ignored by Render" in choice.warnings[0]
    assert "anyway" in choice.warnings[0]


def test_runtime_txt_with_partial_version_suggests_full_version(tmp_path: Path) -> None:
    write(tmp_path / "runtime.txt", "python-3.11\n")
    choice = choose(tmp_path)
    assert f"PYTHON_VERSION={load_releases().newest('3.11')}" in choice.warnings[0]


def test_runtime_txt_in_root_dir_warns_with_its_path(tmp_path: Path) -> None:
    write(tmp_path / "backend" / "runtime.txt", "python-3.10.12\n")
    choice = choose(tmp_path, root_dir="backend")
    assert choice.warnings[0].startswith("backend/runtime.txt is ignored by Render")


def test_no_runtime_txt_no_warning(tmp_path: Path) -> None:
    assert choose(tmp_path).warnings == ()


# -- Render's default table -------------------------------------------------------------

# Written out from render.com/docs/python-version so that a wrong data file fails here.
RENDER_DEFAULTS_BY_DATE = [
    ("2026-11-23", "3.14.3"),
    ("2026-02-11", "3.14.3"),
    ("2026-02-10", "3.13.4"),
    ("2025-06-12", "3.13.4"),
    ("2025-06-11", "3.11.11"),
    ("2024-12-16", "3.11.11"),
    ("2024-12-15", "3.11.10"),
    ("2024-10-29", "3.11.10"),
    ("2024-10-28", "3.11.9"),
    ("2024-04-04", "3.11.9"),
    ("2024-04-03", "3.11.8"),
    ("2024-02-22", "3.11.8"),
    ("2024-02-21", "3.11.7"),
    ("2024-01-02", "3.11.7"),
    ("2024-01-01", "3.11.6"),
    ("2023-12-04", "3.11.6"),
    ("2023-10-31", "3.7.10"),
    ("2020-01-01", "3.7.10"),
]


@pytest.mark.parametrize(("created", "expected"), RENDER_DEFAULTS_BY_DATE)
def test_default_matches_renders_table(tmp_path: Path, created: str, expected: str) -> None:
    choice = choose(tmp_path, created=date.fromisoformat(created))
    assert (choice.version, choice.warnings) == (expected, ())


@pytest.mark.parametrize(
    "row", [row for row in load_defaults().rows if row.start is not None], ids=str
)
def test_each_cut_over_date_of_the_data_file_switches_version(row: DefaultPython) -> None:
    rows = load_defaults().rows
    index = rows.index(row)
    start = rows[index].start
    assert start is not None
    assert default_for(start).version == rows[index].version
    assert default_for(start - timedelta(days=1)).version == rows[index - 1].version


@pytest.mark.parametrize("created", ["2023-11-01", "2023-11-20", "2023-12-03"])
def test_gap_in_renders_table_is_filled_and_warned(tmp_path: Path, created: str) -> None:
    choice = choose(tmp_path, created=date.fromisoformat(created))
    assert choice.version == "3.11.6"
    assert any("gap" in w and "PYTHON_VERSION" in w for w in choice.warnings)


def test_defaults_table_minimum_is_3_7_3() -> None:
    assert load_defaults().minimum == (3, 7, 3)


def test_every_render_default_is_a_known_release() -> None:
    releases = load_releases()
    for row in load_defaults().rows:
        assert row.version in releases, row


def test_defaults_data_file_names_renders_page() -> None:
    assert "render.com/docs/python-version" in load_defaults().source


# -- the release list -------------------------------------------------------------------


def test_release_list_starts_at_renders_minimum_and_names_its_source() -> None:
    releases = load_releases()
    assert releases.oldest == "3.7.3"
    assert releases.source and releases.updated >= date(2026, 11, 23)


def test_release_list_holds_renders_defaults_and_debians_newest() -> None:
    releases = load_releases()
    for version in ("3.14.3", "3.13.4", "3.13.18", "3.14.10", "3.15.2", "3.9.25"):
        assert version in releases


def test_release_list_is_loaded_once() -> None:
    assert load_releases() is load_releases()


def test_release_list_with_unquoted_series_is_refused(tmp_path: Path) -> None:
    bad = write(
        tmp_path / "releases.yaml",
        'source: test\nupdated: 2026-01-01\nreleases:\n  3.10: ["3.10.0"]\n',
    )
    with pytest.raises(RenderSimError, match="not a quoted X.Y"):
        load_releases(bad)


def test_release_list_with_a_pre_release_is_refused(tmp_path: Path) -> None:
    bad = write(
        tmp_path / "releases.yaml",
        'source: test\nupdated: 2026-01-01\nreleases:\n  "3.14": ["3.14.0rc1"]\n',
    )
    with pytest.raises(RenderSimError, match="not a final"):
        load_releases(bad)


def test_defaults_file_with_overlapping_rows_is_refused(tmp_path: Path) -> None:
    text = DEFAULTS_FILE.read_text(encoding="utf-8").replace(
        "until: 2026-02-11\n    version: 3.13.4", "until: 2026-03-01\n    version: 3.13.4"
    )
    with pytest.raises(RenderSimError, match="overlap"):
        load_defaults(write(tmp_path / "defaults.yaml", text))


def test_defaults_file_with_a_gap_is_refused(tmp_path: Path) -> None:
    text = DEFAULTS_FILE.read_text(encoding="utf-8").replace(
        "until: 2026-02-11\n    version: 3.13.4", "until: 2026-01-01\n    version: 3.13.4"
    )
    with pytest.raises(RenderSimError, match="gap"):
        load_defaults(write(tmp_path / "defaults.yaml", text))


def _update_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "update_cpython_releases", REPO / "scripts" / "update_cpython_releases.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_update_script_output_loads_as_release_list(tmp_path: Path) -> None:
    script = _update_script()
    answer = [
        {"name": "Python 3.14.10", "pre_release": False, "is_published": True},
        {"name": "Python 3.15.0rc1", "pre_release": True, "is_published": True},
        {"name": "Python 3.10.0", "pre_release": False, "is_published": True},
        {"name": "Python 3.7.2", "pre_release": False, "is_published": True},
        {"name": "Python 2.7.18", "pre_release": False, "is_published": True},
        {"name": "Python 3.7.3", "pre_release": False, "is_published": True},
    ]
    versions = script.final_releases(answer)
    out = write(tmp_path / "out.yaml", script.to_yaml(versions, "test answer", date(2026, 1, 2)))
    releases = load_releases(out)
    assert releases.versions == ((3, 7, 3), (3, 10, 0), (3, 14, 10))
    assert releases.updated == date(2026, 1, 2)


def test_committed_release_list_is_in_the_update_scripts_format() -> None:
    script = _update_script()
    current = load_releases()
    regenerated = script.to_yaml(current.versions, current.source, current.updated)
    assert regenerated == RELEASES_FILE.read_text(encoding="utf-8")


# -- properties -------------------------------------------------------------------------


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(), st.binary()))
def test_python_version_reader_returns_or_raises_configuration_error(
    content: str | bytes,
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / ".python-version"
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8", errors="surrogatepass")
        else:
            path.write_bytes(content)
        try:
            requested, version = read_python_version_file(path)
        except ConfigurationError:
            return
        assert version in load_releases()
        assert requested


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=30))
def test_env_var_check_returns_or_raises_configuration_error(value: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        try:
            choice = choose(Path(directory), {"PYTHON_VERSION": value})
        except ConfigurationError:
            return
        assert choice.version in load_releases()
