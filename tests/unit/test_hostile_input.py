"""Hostile input: whatever a file, a log or a value holds, render-sim answers quickly.

The Blueprint reader, the `.python-version` reader with the PYTHON_VERSION check, and `explain`
are fed arbitrary bytes, YAML-ish token soup, odd YAML documents and known bombs. Each call must
give a result or a typed error (a `RenderSimError` with a documented exit code), never another
exception, and must finish within `LIMIT_S`. A few examples go through the command line too:
a documented exit code and no traceback.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from datetime import date, timezone
from pathlib import Path
from typing import Any, TypeVar

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulator.config.blueprint import Blueprint, load_blueprint
from simulator.config.python_releases import load_releases
from simulator.config.python_version import choose_python
from simulator.config.services import RUNTIMES
from simulator.config.version_requests import read_python_version_file
from simulator.diagnose.catalogue import load_rules
from simulator.diagnose.diagnosis import Diagnosis
from simulator.diagnose.explain import decode_log, explain, explain_file, read_log
from simulator.diagnose.text import normalise_text as normalise
from simulator.errors import EXIT_CODES, ConfigurationError, InputError, RenderSimError

ROOT = Path(__file__).resolve().parents[2]
LIMIT_S = 60.0  # only catches hangs and blow-ups (speed is measured by `make bench`, not here)
CREATED = date(2026, 3, 1)
T = TypeVar("T")

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# -- harness ----------------------------------------------------------------------------


class TooSlow(Exception):
    """Raised by the alarm of `time_limit`: the call did not answer in time."""


@contextmanager
def time_limit(seconds: float = LIMIT_S) -> Iterator[None]:
    """Fail the test when the block takes longer than `seconds` (POSIX; elsewhere no limit)."""

    def alarm(_signum: int, _frame: Any) -> None:
        raise TooSlow

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except TooSlow:
        # Without the interrupted frames: pytest cannot format some of them.
        raise AssertionError(f"no answer within {seconds} s") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bounded(seconds: float = LIMIT_S) -> Any:
    return time_limit(seconds) if hasattr(signal, "setitimer") else nullcontext()


def outcome(call: Callable[[], T]) -> T | RenderSimError:
    """The result of `call`, or the typed error it raised; anything else fails the test."""
    with bounded():
        try:
            return call()
        except RenderSimError as error:
            check_typed_error(error)
            return error


def check_typed_error(error: RenderSimError) -> None:
    assert error.return_code in EXIT_CODES, error
    assert str(error).strip(), type(error)
    # The message and hint are printed as UTF-8, also in JSON on a strict stream.
    str(error).encode("utf-8")
    if error.hint is not None:
        error.hint.encode("utf-8")


def strings(value: Any) -> Iterator[str]:
    """Every string inside plain data or dataclasses."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        value = dataclasses.asdict(value)
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from strings(item)


def surrogate_free(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# -- the Blueprint ------------------------------------------------------------------------


def load_text(content: bytes) -> Blueprint | RenderSimError:
    with tempfile.TemporaryDirectory() as directory:
        repo = Path(directory)
        (repo / "sub").mkdir()
        path = repo / "render.yaml"
        path.write_bytes(content)
        result = outcome(lambda: load_blueprint(path, repo_root=repo))
        if isinstance(result, RenderSimError):
            assert isinstance(result, ConfigurationError), result
            return result
        check_blueprint(result, repo)
        return result


def check_blueprint(blueprint: Blueprint, repo: Path) -> None:
    """What a loaded Blueprint promises: printable strings, and a choosable Python."""
    for text in strings(blueprint):
        assert surrogate_free(text) and "\x00" not in text, repr(text)
    for service in blueprint.services:
        assert isinstance(service.name, str) and service.name
        assert isinstance(service.build_command, str) and service.build_command.strip()
        assert not service.root_dir.startswith(("/", ".."))
        choice = outcome(
            lambda service=service: choose_python(
                service.env(), repo, root_dir=service.root_dir, created=CREATED
            )
        )
        if not isinstance(choice, RenderSimError):
            assert choice.version in load_releases()


def dump(data: Any, flow: bool, unicode: bool) -> bytes:
    text = yaml.dump(
        data,
        Dumper=_Dumper,
        default_flow_style=flow,
        allow_unicode=unicode,
        sort_keys=False,
        width=60,
    )
    return text.encode("utf-8", "surrogatepass")


class PlainNumber(str):
    """Digits written unquoted, e.g. 5000 of them: YAML reads them as an int."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    PlainNumber, lambda dumper, data: dumper.represent_scalar("tag:yaml.org,2002:int", data)
)

ODD_TEXT = st.one_of(
    st.text(max_size=12),
    st.text(
        st.one_of(
            st.characters(),
            st.sampled_from(["\x00", "\t", "\x1b", "\r", "\u2028", "\ufeff", "\ud800", "\udcff"]),
        ),
        max_size=12,
    ),
    st.sampled_from(["", " ", "3.13.4", "3.12", "3.11.9", "python", "web", "~", "null", "yes"]),
    st.just("x" * 5000),
)
ODD_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=10**40, max_value=10**60),
    st.sampled_from(
        [PlainNumber("9" * 5000), PlainNumber("1" + ":1" * 2000), PlainNumber("-0"), 2**64]
    ),
    st.floats(),
    st.dates(),
    st.datetimes(timezones=st.sampled_from([None, timezone.utc])),
    st.binary(max_size=8),
    ODD_TEXT,
)
ANY_VALUE: st.SearchStrategy[Any] = st.recursive(
    ODD_SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(st.one_of(ODD_TEXT, st.integers(), st.none()), children, max_size=3),
        st.frozensets(st.integers(), max_size=2).map(set),
    ),
    max_leaves=12,
)
GROUP_NAMES = st.sampled_from(["shared", "settings", "g"])
ENV_VAR = st.one_of(
    st.fixed_dictionaries(
        {"key": st.one_of(st.sampled_from(["PYTHON_VERSION", "DATABASE_URL", "A=B"]), ODD_TEXT)},
        optional={
            "value": st.one_of(st.sampled_from(["3.13.4", "3.12", "3.9.0"]), ANY_VALUE),
            "generateValue": ODD_SCALARS,
            "sync": ODD_SCALARS,
            "previewValue": ODD_SCALARS,
            "fromDatabase": st.one_of(
                st.fixed_dictionaries(
                    {"name": ODD_TEXT, "property": st.sampled_from(["host", "port", "nope"])}
                ),
                ANY_VALUE,
            ),
            "fromService": st.one_of(
                st.fixed_dictionaries(
                    {"name": ODD_TEXT, "type": ODD_TEXT},
                    optional={"property": ODD_TEXT, "envVarKey": ODD_TEXT},
                ),
                ANY_VALUE,
            ),
        },
    ),
    st.fixed_dictionaries({"fromGroup": st.one_of(GROUP_NAMES, ODD_SCALARS)}),
    ANY_VALUE,
)
SERVICE = st.fixed_dictionaries(
    {
        "type": st.one_of(st.sampled_from(["web", "worker", "pserv", "cron", "redis"]), ANY_VALUE),
        "name": st.one_of(st.sampled_from(["api", "api", "worker"]), ANY_VALUE),
        "runtime": st.one_of(st.just("python"), st.sampled_from(RUNTIMES), ANY_VALUE),
    },
    optional={
        "buildCommand": st.one_of(st.just("pip install -r requirements.txt"), ANY_VALUE),
        "startCommand": ANY_VALUE,
        "rootDir": st.one_of(
            st.sampled_from(["sub", ".", "..", "/abs", "a/../..", "C:\\x", "sub/../sub", ""]),
            ANY_VALUE,
        ),
        "envVars": st.one_of(st.lists(ENV_VAR, max_size=4), ANY_VALUE),
        "previews": ANY_VALUE,
        "env": ANY_VALUE,
        "pythonVersion": ANY_VALUE,
        "plan": ANY_VALUE,
    },
)
GROUP = st.fixed_dictionaries(
    {"name": st.one_of(GROUP_NAMES, ANY_VALUE)},
    optional={"envVars": st.one_of(st.lists(ENV_VAR, max_size=3), ANY_VALUE)},
)


@st.composite
def blueprint_documents(draw: st.DrawFn) -> Any:
    """A Blueprint-shaped document; a subtree may appear several times (anchors, aliases)."""
    shared = draw(st.one_of(SERVICE, ENV_VAR, GROUP, ANY_VALUE))
    reuse = st.just(shared)
    document = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "services": st.one_of(st.lists(st.one_of(SERVICE, reuse), max_size=3), ANY_VALUE),
                "envVarGroups": st.one_of(st.lists(st.one_of(GROUP, reuse), max_size=2), reuse),
                "previews": st.one_of(ANY_VALUE, reuse),
                "previewsEnabled": ODD_SCALARS,
                "databases": st.one_of(st.lists(ANY_VALUE, max_size=2), reuse),
                "version": ODD_SCALARS,
                "projects": ANY_VALUE,
                "ungrouped": st.one_of(
                    st.fixed_dictionaries({}, optional={"services": st.lists(SERVICE, max_size=2)}),
                    ANY_VALUE,
                ),
            },
        )
    )
    extra = draw(st.dictionaries(ODD_TEXT, ANY_VALUE, max_size=2))
    return {**document, **{key: value for key, value in extra.items() if key not in document}}


YAML_PIECES = st.sampled_from(
    [
        "services:",
        "envVarGroups:",
        "previews:",
        "previewsEnabled: true",
        "envVars:",
        "databases:",
        "projects:",
        "environments:",
        "ungrouped:",
        "- ",
        "  ",
        "    ",
        "\t",
        "\n",
        "\n",
        "\r\n",
        "\r",
        ": ",
        "key: ",
        "value: ",
        "name: api",
        "type: web",
        "runtime: python",
        "buildCommand: pip install .",
        "rootDir: ",
        "fromGroup: g",
        "generateValue: true",
        "sync: false",
        "&a ",
        "&b ",
        "*a",
        "*b",
        "<<: *a",
        "<<: [*a, *b]",
        "[",
        "]",
        "{",
        "}",
        ", ",
        "? ",
        "!!str ",
        "!!int ",
        "!!binary ",
        "!!set ",
        "!!omap ",
        "!!timestamp ",
        "!!bool ",
        "!!float ",
        "!!null ",
        "!!map ",
        "!!seq ",
        "!!pairs ",
        "!!merge ",
        "!!value ",
        '!!int ""',
        "=",
        "!!python/object/apply:os.system ",
        "!custom ",
        "---",
        "...",
        "%YAML 1.1",
        "%TAG !e! tag:example.com,2000:",
        '"',
        "'",
        "#",
        "|",
        ">-",
        '"\\0"',
        '"\\ud800"',
        '"\\x1b[31m"',
        "\ufeff",
        "\x00",
        "\x85",
        "\u2028",
        "~",
        ".nan",
        "-.inf",
        "0x1F",
        "0o17",
        "1:20:30",
        "2024-13-45",
        "1e999",
        "9" * 5000,
        "y" * 3000,
    ]
)
YAML_SOUP = st.lists(st.one_of(YAML_PIECES, st.text(max_size=6)), max_size=60).map("".join)
BOMS = st.sampled_from([b"", b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"])


@FAST
@given(BOMS, st.binary(max_size=3000))
def test_blueprint_from_any_bytes_is_a_blueprint_or_a_configuration_error(
    bom: bytes, content: bytes
) -> None:
    load_text(bom + content)


@FAST
@given(BOMS, YAML_SOUP)
def test_blueprint_from_yaml_token_soup_is_a_blueprint_or_a_configuration_error(
    bom: bytes, text: str
) -> None:
    load_text(bom + text.encode("utf-8", "surrogatepass"))


@settings(FAST, max_examples=200)
@given(blueprint_documents(), st.booleans(), st.booleans())
def test_odd_blueprint_documents_give_a_blueprint_or_a_configuration_error(
    document: Any, flow: bool, unicode: bool
) -> None:
    load_text(dump(document, flow, unicode))


def _merge_bomb(levels: int) -> str:
    lines = ["a0: &a0 {name: x, type: web}"]
    lines += [f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}" for i in range(1, levels + 1)]
    return "\n".join([*lines, f"services: [*a{levels}]"])


def _laughs(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels + 1)]
    return "\n".join(lines)


BOMBS = {
    "billion laughs under services": _laughs(9) + "\nservices: *a9\n",
    "billion laughs under envVarGroups": _laughs(9) + "\nenvVarGroups: [{name: g, envVars: *a9}]\n",
    "billion laughs under previews": _laughs(9) + "\npreviews: *a9\n",
    "merge keys doubling 40 times": _merge_bomb(40),
    "merge keys doubling with list keys": "a0: &a0 {? [k] : v}\n"
    + "\n".join(f"a{i}: &a{i} {{<<: [*a{i - 1}, *a{i - 1}]}}" for i in range(1, 41)),
    "flow nesting 50k deep": "services: " + "[" * 50_000 + "]" * 50_000,
    "mapping nesting 50k deep": "services: " + "{a: " * 50_000 + "1" + "}" * 50_000,
    "self-referencing alias": "services: &s [*s]\n",
    "5000-digit number": "version: " + "9" * 5000 + "\n",
    "2000-part sexagesimal float": "version: " + "1" + ":1" * 2000 + ".5\n",
    "one 2 MB line": "services: " + "x" * 2_000_000 + "\n",
    "20k aliases of one mapping": "x: &x {type: web}\nservices:\n"
    + "".join("  - *x\n" for _ in range(20_000)),
}


@pytest.mark.parametrize("text", BOMBS.values(), ids=BOMBS.keys())
def test_yaml_bombs_are_refused_or_read_quickly(text: str) -> None:
    load_text(text.encode("utf-8"))


def test_merge_keys_still_give_the_winning_value() -> None:
    blueprint = load_text(
        b"""\
x: &base {key: A, value: "from base"}
y: &other {key: A, value: "from other"}
services:
  - type: web
    name: api
    runtime: python
    buildCommand: pip install .
    startCommand: gunicorn app:app
    envVars:
      - <<: [*base, *other]
      - <<: *base
        key: B
"""
    )
    assert isinstance(blueprint, Blueprint)
    assert blueprint.services[0].env() == {"A": "from base", "B": "from base"}


def test_a_mapping_that_merges_itself_is_read_once() -> None:
    blueprint = load_text(
        b"""\
services:
  - &api
    <<: *api
    type: web
    name: api
    runtime: python
    buildCommand: pip install .
    startCommand: gunicorn app:app
"""
    )
    assert isinstance(blueprint, Blueprint)
    assert [s.name for s in blueprint.services] == ["api"]


@pytest.mark.parametrize(
    ("escape", "words"),
    [("\\0", "NUL"), ("\\x00", "NUL"), ("\\ud800", "surrogate"), ("\\udcff", "surrogate")],
)
def test_nul_and_lone_surrogate_escapes_are_refused_with_their_line(
    escape: str, words: str
) -> None:
    error = load_text(
        f'services:\n  - type: web\n    name: "api{escape}"\n    runtime: python\n'.encode()
    )
    assert isinstance(error, ConfigurationError)
    assert words in error.message
    assert error.where is not None and error.where.line == 3
    assert error.hint


def test_an_unquoted_number_too_long_for_python_stays_text() -> None:
    digits = "7" * 5000
    blueprint = load_text(
        (
            "services:\n  - type: web\n    name: api\n    runtime: python\n"
            "    buildCommand: pip install .\n    startCommand: gunicorn app:app\n"
            f"    envVars:\n      - key: TOKEN\n        value: {digits}\n"
        ).encode()
    )
    assert isinstance(blueprint, Blueprint)
    assert blueprint.services[0].env() == {"TOKEN": digits}


# -- .python-version and PYTHON_VERSION ---------------------------------------------------

VERSION_PIECES = st.sampled_from(
    [
        "3",
        "2",
        "12",
        "13",
        "14",
        "4",
        "0",
        ".",
        "..",
        "x",
        "*",
        "^",
        "~=",
        ">=",
        "rc1",
        "a1",
        ".dev0",
        "pypy",
        "pypy3.10",
        "python-",
        "v",
        "cpython-",
        "system",
        "miniconda3-latest",
        "#",
        "# 3.12",
        " ",
        "\t",
        "\n",
        "\r\n",
        "\r",
        "\ufeff",
        "\x00",
        "\x0c",
        "\u2028",
        "\u00a0",
        "٣",
        "３",
        "9" * 5000,
        "0" * 50,
        "-",
        "/",
        "3.13.4",
        "3.12",
        "2.7",
        "3.99",
    ]
)
VERSION_SOUP = st.lists(st.one_of(VERSION_PIECES, st.text(max_size=4)), max_size=20).map("".join)
VERSION_FILE_BYTES = st.one_of(
    st.binary(max_size=200),
    st.tuples(BOMS, VERSION_SOUP).map(lambda pair: pair[0] + pair[1].encode("utf-8")),
    st.tuples(BOMS, VERSION_SOUP).map(
        lambda pair: pair[0] + pair[1].encode("utf-16-le", "surrogatepass")
    ),
)
ASCII_VERSION = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+")
ASCII_REQUEST = re.compile(r"[0-9]+\.[0-9]+(?:\.[0-9]+)?")


def check_version_file(content: bytes, env: dict[str, str] | None = None) -> None:
    with tempfile.TemporaryDirectory() as directory:
        repo = Path(directory)
        path = repo / ".python-version"
        path.write_bytes(content)
        read = outcome(lambda: read_python_version_file(path, shown_as=".python-version"))
        if isinstance(read, RenderSimError):
            assert isinstance(read, ConfigurationError), read
            assert read.where is not None and read.where.file == ".python-version"
        else:
            requested, version = read
            assert ASCII_REQUEST.fullmatch(requested), requested
            assert ASCII_VERSION.fullmatch(version) and version in load_releases()
        choice = outcome(lambda: choose_python(env or {}, repo, created=CREATED))
        if isinstance(choice, RenderSimError):
            assert isinstance(choice, ConfigurationError), choice
        else:
            assert ASCII_VERSION.fullmatch(choice.version) and choice.version in load_releases()
            assert all(surrogate_free(warning) for warning in choice.warnings)


@FAST
@given(VERSION_FILE_BYTES)
def test_python_version_file_of_any_content_gives_a_version_or_a_configuration_error(
    content: bytes,
) -> None:
    check_version_file(content)


@FAST
@given(
    st.one_of(
        VERSION_SOUP,
        st.text(st.one_of(st.characters(), st.sampled_from(["\udcff", "\ud800"])), max_size=20),
    ),
    st.one_of(st.none(), VERSION_FILE_BYTES),
)
def test_python_version_env_value_of_any_text_gives_a_version_or_a_configuration_error(
    value: str, file_content: bytes | None
) -> None:
    if file_content is None:
        with tempfile.TemporaryDirectory() as directory:
            choice = outcome(
                lambda: choose_python({"PYTHON_VERSION": value}, Path(directory), created=CREATED)
            )
        if isinstance(choice, RenderSimError):
            assert isinstance(choice, ConfigurationError), choice
        else:
            assert ASCII_VERSION.fullmatch(choice.version), choice.version
    else:
        check_version_file(file_content, {"PYTHON_VERSION": value})


@pytest.mark.parametrize(
    "content",
    [
        "3." + "1" * 5000,
        "3.12." + "1" * 5000,
        "1" * 5000 + ".1.1",
        "٣.١٢",
        "３.１３.４",
        "3.12\x00",
        "#" * 1_000_000,
        "3.12\n" * 100_000,
        "x" * 5_000_000,
    ],
    ids=[
        "5000-digit minor",
        "5000-digit patch",
        "5000-digit major",
        "arabic-indic digits",
        "fullwidth digits",
        "NUL",
        "a million hashes",
        "100k lines",
        "5 MB line",
    ],
)
def test_odd_python_version_files_are_refused_with_a_configuration_error(content: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / ".python-version"
        path.write_text(content, encoding="utf-8")
        error = outcome(lambda: read_python_version_file(path))
    assert isinstance(error, ConfigurationError)
    assert error.hint


@pytest.mark.parametrize("value", ["3.13." + "9" * 5000, "３.１３.４", "3.13.4\udcff"])
def test_odd_python_version_values_are_refused_and_printable(value: str) -> None:
    with tempfile.TemporaryDirectory() as directory:
        error = outcome(
            lambda: choose_python({"PYTHON_VERSION": value}, Path(directory), created=CREATED)
        )
    assert isinstance(error, ConfigurationError)
    assert "major, minor, and patch" in error.message


# -- explain --------------------------------------------------------------------------------

_CATALOGUE = load_rules()
NEEDLES = sorted(
    {
        needle
        for rule in _CATALOGUE.rules
        for matcher in (*(s.matcher for s in rule.signals), *rule.captures, *rule.context)
        for needle in matcher.needles
    }
)
LOG_PIECES = st.one_of(
    st.sampled_from(NEEDLES),
    st.sampled_from(
        [
            "\n",
            "\n",
            "\r\n",
            "\r",
            " ",
            "\t",
            "\x00",
            "\x1b",
            "\x1b[31m",
            "\x1b[0m",
            "\x1b]0;title\x07",
            "\x1b]8;;http://x\x1b\\",
            "\x1b]",
            "\x1bc",
            "\x1b(0",
            "\x1b[2J",
            "\x9b",
            "2026-03-01T10:00:00.123Z ",
            "Apr 18 05:56:26 PM ",
            "#12 2.185 ",
            "5.628 ",
            "==> Using Python version 3.14.3 (default)",
            "==> Using Python version 3." + "9" * 5000 + ".1 (default)",
            "==> Build failed",
            "Collecting pydantic-core==2.23.4",
            "pydantic_core-2.23.4-cp313-cp313-manylinux_2_17_x86_64.whl",
            "cp3" + "1" * 5000,
            "Downloading x.tar.gz (" + "9" * 5000 + " MB)",
            "ERROR: ",
            "error: ",
            "Traceback (most recent call last):",
            "==",
            ">=",
            "(",
            ")",
            "'",
            "`",
            "/usr/local/cargo/",
            "/opt/render/project/src/.venv/bin/python3.14",
            "\ufffd",
            "a" * 20_000,
        ]
    ),
    st.text(max_size=10),
)
LOG_SOUP = st.lists(LOG_PIECES, max_size=80).map("".join)


def check_diagnosis(diagnosis: Diagnosis) -> None:
    data = diagnosis.to_dict()
    json.dumps(data, ensure_ascii=False).encode("utf-8")
    assert diagnosis.headline
    for text in strings(data):
        assert "\x1b" not in text, repr(text)


@FAST
@given(st.binary(max_size=3000))
def test_decode_log_of_any_bytes_gives_text_or_an_input_error(data: bytes) -> None:
    text = outcome(lambda: decode_log(data))
    if isinstance(text, RenderSimError):
        assert isinstance(text, InputError), text
    else:
        assert text.strip() and surrogate_free(text)


@FAST
@given(st.one_of(st.binary(max_size=3000), LOG_SOUP.map(lambda t: t.encode("utf-8"))))
def test_explain_file_of_any_bytes_gives_a_diagnosis_or_an_input_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "build.log"
        path.write_bytes(data)
        diagnosis = outcome(lambda: explain_file(str(path)))
    if isinstance(diagnosis, RenderSimError):
        assert isinstance(diagnosis, InputError), diagnosis
    else:
        check_diagnosis(diagnosis)


@FAST
@given(LOG_SOUP)
def test_explain_of_log_shaped_text_always_gives_a_diagnosis(text: str) -> None:
    diagnosis = outcome(lambda: explain(text))
    assert isinstance(diagnosis, Diagnosis), diagnosis
    check_diagnosis(diagnosis)


@FAST
@given(LOG_SOUP.map(lambda text: text.replace("\r", "")))
def test_normalise_keeps_every_line_and_drops_every_escape(text: str) -> None:
    cleaned = normalise(text)
    assert cleaned.count("\n") == text.count("\n")
    assert "\x1b" not in cleaned


LONG_LOGS = {
    "one 5 MB line": "x" * 5_000_000,
    "one line of every needle, 50 times": " ".join(NEEDLES) * 50,
    "every needle on its own line, 2000 times": "\n".join(NEEDLES * 2000),
    "a million escapes": "\x1b[31m\x1b]" * 1_000_000 + "ERROR: x\n",
    "an unterminated link over 100k lines": "\x1b]8;;" + "a\n" * 100_000 + "\x07",
    "200k timestamps": "2026-03-01T10:00:00Z " * 200_000,
    "100k lines of a NUL-free binary look": "\x7f\x01\x02\x03\n" * 100_000,
}


@pytest.mark.parametrize("text", LONG_LOGS.values(), ids=LONG_LOGS.keys())
def test_long_and_repetitive_logs_are_diagnosed_quickly(text: str) -> None:
    diagnosis = outcome(lambda: explain(text))
    assert isinstance(diagnosis, Diagnosis)
    check_diagnosis(diagnosis)


def test_escape_sequences_never_reach_the_evidence() -> None:
    log = "\x1bcERROR: \x1b(0Could not find a version that satisfies the requirement qq==1\n"
    diagnosis = explain(log)
    check_diagnosis(diagnosis)
    assert any("Could not find a version" in item.text for item in diagnosis.evidence)


def test_a_log_name_too_long_is_an_input_error() -> None:
    error = outcome(lambda: read_log("a" * 5000))
    assert isinstance(error, InputError)


def test_a_log_name_with_undecodable_bytes_is_shown_escaped() -> None:
    error = outcome(lambda: read_log("\udcffbuild.log"))
    assert isinstance(error, InputError)
    assert "\\udcffbuild.log" in error.message


# -- through the command line -------------------------------------------------------------

NO_ENGINE = {"DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"}


def run_cli(
    *args: str | bytes, home: Path, strict_output: bool = False, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, **NO_ENGINE, "RENDER_SIM_HOME": str(home)}
    if strict_output:
        env["PYTHONIOENCODING"] = "utf-8:strict"
    with bounded(30):
        return subprocess.run(
            [sys.executable, "-m", "simulator", *args],
            capture_output=True,
            env=env,
            cwd=ROOT,
            input=stdin,
            timeout=30,
        )


def check_cli(result: subprocess.CompletedProcess[bytes], code: int) -> None:
    stderr = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    assert result.returncode in EXIT_CODES, (result.returncode, stderr)
    assert result.returncode == code, (result.returncode, stderr)


CLI_BLUEPRINTS = {
    "merge-key bomb": _merge_bomb(40),
    "lone surrogate name": 'services:\n  - type: web\n    name: "\\ud800"\n    runtime: python\n',
    "NUL in a build command": "services:\n  - type: web\n    name: api\n    runtime: python\n"
    '    buildCommand: "pip\\0install"\n',
    "tab indentation": "services:\n\t- type: web\n",
}


@pytest.fixture(scope="module")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("render-sim-home")


@pytest.mark.parametrize("text", CLI_BLUEPRINTS.values(), ids=CLI_BLUEPRINTS.keys())
def test_plan_refuses_a_hostile_blueprint_with_exit_code_2(
    text: str, cli_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo = tmp_path_factory.mktemp("repo")
    (repo / "render.yaml").write_text(text, encoding="utf-8")
    result = run_cli("plan", str(repo), "--json", home=cli_home, strict_output=True)
    check_cli(result, 2)
    assert json.loads(result.stdout)["error"]["code"] == 2


def test_plan_refuses_a_binary_blueprint_with_exit_code_2(
    cli_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo = tmp_path_factory.mktemp("repo")
    (repo / "render.yaml").write_bytes(bytes(range(256)) * 4)
    check_cli(run_cli("plan", str(repo), home=cli_home), 2)


def test_plan_refuses_an_undecodable_python_option_printably(
    cli_home: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    repo = tmp_path_factory.mktemp("repo")
    result = run_cli(
        "plan",
        str(repo),
        "--build-command",
        "pip install .",
        "--python",
        b"3.13.\xff",
        "--json",
        home=cli_home,
        strict_output=True,
    )
    check_cli(result, 2)
    # what could not be read as a version is described, never printed back
    assert "a value that is not a version" in json.loads(result.stdout)["error"]["message"]


def test_explain_refuses_binary_stdin_with_exit_code_6(cli_home: Path) -> None:
    result = run_cli("explain", "-", "--offline", home=cli_home, stdin=b"\x00\x01\x02" * 100)
    check_cli(result, 6)


def test_explain_of_a_missing_undecodable_name_exits_6_in_json(cli_home: Path) -> None:
    result = run_cli(
        "explain", b"\xffbuild.log", "--offline", "--json", home=cli_home, strict_output=True
    )
    check_cli(result, 6)
    assert json.loads(result.stdout)["error"]["code"] == 6


def test_explain_prints_no_terminal_escapes_from_a_hostile_log(cli_home: Path) -> None:
    log = (
        b"\x1bc\x1b]0;owned\x07\x1b(0ERROR: Could not find a version that satisfies the "
        b"requirement qq==1 (from versions: none)\n\x1b[2J\n"
    )
    result = run_cli("explain", "-", "--offline", home=cli_home, stdin=log)
    check_cli(result, 0)
    assert b"\x1b" not in result.stdout
