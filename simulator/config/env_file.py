"""`--env-file`: the variables a build gets besides the Blueprint's, every value a secret.

The file is read with python-dotenv's own parser (`KEY=VALUE`, `export KEY=VALUE`, quotes,
multi-line quoted values, comments), as Render's "Add from .env" takes such a file: values are
kept as written, with no `${VAR}` expansion from the host's environment.

The file holds secrets, so no message about it ever prints a line of it: a line that cannot be
read (often a token pasted without its `NAME=`) is named by its number only.
"""

from __future__ import annotations

import io
from pathlib import Path

from dotenv.parser import parse_stream

from simulator.errors import ConfigurationError, Location, UsageError

_FORMAT_HINT = (
    "Write one variable per line as NAME=VALUE (quote a value with spaces or # in it); a value "
    "alone, such as a pasted token, needs its variable's name in front: NAME=..."
)


def read_env_file(path: Path) -> dict[str, str]:
    """The variables of an env file, in order; a ConfigurationError naming the file and line
    (never its content) for a line that is not `NAME=VALUE` or a file that is not UTF-8 text."""
    shown = str(path)
    if not path.is_file():
        raise UsageError(
            f"env file {shown} does not exist", hint="pass an existing file to --env-file"
        )
    try:
        data = path.read_bytes()
    except OSError as error:
        raise ConfigurationError(
            f"cannot read the env file: {error.strerror or error}",
            hint="pass a file you can read to --env-file",
            where=Location(shown),
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigurationError(
            "the env file is not UTF-8 text",
            hint="Save it as UTF-8 (values are passed to the build as UTF-8, as on Render).",
            where=Location(shown, data.count(b"\n", 0, error.start) + 1),
        ) from None
    values: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        where = Location(shown, binding.original.line)
        if binding.error:
            raise ConfigurationError(
                "this line cannot be read as NAME=VALUE", hint=_FORMAT_HINT, where=where
            )
        if binding.key is None:
            continue  # a blank line or a comment
        if binding.value is None:
            raise ConfigurationError(
                "this line has no `=`: it gives no value", hint=_FORMAT_HINT, where=where
            )
        if "\x00" in binding.key + binding.value:
            raise ConfigurationError(
                "this line holds a NUL character, which no environment variable can contain",
                hint="Remove the NUL character.",
                where=where,
            )
        values[binding.key] = binding.value
    return values
