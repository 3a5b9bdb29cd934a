"""The options of a `pip install` command line, read by pip's own option parser.

Why pip's `pip._internal` parser and not a hand-written one: pip has no public API for its
command line, and its reading has corners a reimplementation gets wrong: unique prefixes are
accepted (`--only-bin=all` is `--only-binary=all`), `-rfile` and `-r file` are the same,
`--only-binary` takes package names or the special `:all:`/`:none:` (so `--only-binary=all`
names a package called "all"), later options override earlier ones (`:none:` clears), and
flags such as `--no-compile` and `--no-cache-dir` are callbacks. Using pip's own parser means
render-sim reads a build command exactly as the pip on Render's machine does; if a future pip
changes its internals, `parse_install` raises `PipParserUnavailable` and the lint says it could
not read the command (tests/unit/test_lint.py pins the behaviour this relies on).

Only the parser is used: no pip configuration file or PIP_* variable of this machine is read
(the defaults are taken as they are, not from `ConfigOptionParser.get_default_values`).
"""

from __future__ import annotations

import contextlib
import copy
import io
import optparse
import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from packaging.utils import canonicalize_name


class PipParserUnavailable(Exception):
    """This pip's internals are not the ones render-sim reads (pip moved its parser)."""


class PipUsageError(Exception):
    """pip itself would refuse the command line (the message is pip's)."""


@dataclass(frozen=True)
class InstallOptions:
    """What `pip install ARGS` asks for, as pip read it."""

    only_binary: frozenset[str]  # canonical names, or ":all:"
    no_binary: frozenset[str]
    requirements: tuple[str, ...]  # -r files, as written
    constraints: tuple[str, ...]
    editables: tuple[str, ...]
    compile: bool  # False with --no-compile
    cache_dir: bool  # False with --no-cache-dir
    upgrade: bool
    arguments: tuple[str, ...]  # requirement specifiers and paths

    def names_only_binary_all(self) -> bool:
        """`--only-binary=all`: a package called "all", not every package."""
        return "all" in self.only_binary


_LOCK = threading.Lock()  # optparse keeps the state of a parse on the parser itself


@lru_cache(maxsize=1)
def _parser() -> Any:
    try:
        from pip._internal.commands import create_command
    except ImportError as error:  # pragma: no cover - pip missing or reorganised
        raise PipParserUnavailable(f"pip's install command cannot be imported: {error}") from error
    command = create_command("install", isolated=True)
    return command.parser


def parse_install(args: list[str]) -> InstallOptions:
    """Read the arguments that follow `pip install` with pip's parser.

    Raises PipUsageError when pip would stop with a usage error (an unknown option, a missing
    value), PipParserUnavailable when this pip's internals cannot be used."""
    parser = _parser()
    try:
        values = optparse.Values(copy.deepcopy(parser.defaults))
    except Exception as error:  # noqa: BLE001 - any shape change of pip's defaults
        raise PipParserUnavailable(f"pip's install defaults cannot be copied: {error}") from error
    errors = io.StringIO()
    try:
        with (
            _LOCK,
            contextlib.redirect_stderr(errors),
            contextlib.redirect_stdout(io.StringIO()),
        ):
            options, arguments = optparse.OptionParser.parse_args(parser, list(args), values)
    except SystemExit as error:
        text = errors.getvalue().strip().splitlines()
        raise PipUsageError(text[-1] if text else f"pip exits {error.code}") from None
    try:
        control = options.format_control
        return InstallOptions(
            only_binary=frozenset(_names(control.only_binary)),
            no_binary=frozenset(_names(control.no_binary)),
            requirements=tuple(options.requirements or ()),
            constraints=tuple(options.constraints or ()),
            editables=tuple(options.editables or ()),
            compile=bool(options.compile),
            cache_dir=options.cache_dir is not False,
            upgrade=bool(options.upgrade),
            arguments=tuple(arguments),
        )
    except AttributeError as error:
        raise PipParserUnavailable(f"pip's install options changed: {error}") from error


def _names(values: set[str]) -> set[str]:
    return {v if v in (":all:", ":none:") else canonicalize_name(v) for v in values}


def only_binary_value(value: str) -> set[str]:
    """What one `--only-binary VALUE` selects, as pip reads it (names canonical, or :all:)."""
    try:
        from pip._internal.models.format_control import FormatControl
    except ImportError:  # pragma: no cover
        names = {v for v in value.split(",") if v}
        return {":all:"} if ":all:" in names else _names(names - {":none:"})
    control = FormatControl(set(), set())
    FormatControl.handle_mutual_excludes(value, control.only_binary, control.no_binary)
    return _names(control.only_binary)
