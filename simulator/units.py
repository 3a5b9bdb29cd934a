"""Sizes, durations, CPU counts, dates and image names as people write them (`8g`, `90s`, `2`,
`2026-03-01`, `python:3.13-slim`).

Shared by the command line (`--memory`, `--timeout`, `--cpus`, `--created`, `--base-image`) and
scenario manifests (`memory:`, `timeout:`, `created:`), so both accept exactly the same
spellings. `option` names the setting in the message: the option on the command line, the field
in a manifest. Every value outside its range is a `UsageError` naming the setting and the range
(exit 2), never a value passed on to Docker to fail there.
"""

from __future__ import annotations

import math
import re
from datetime import date

from simulator.errors import UsageError

DOCKER_MIN_MEMORY = 6 * 1024**2
# Far above any build machine (Render's largest pipeline has 64 GB), far below what overflows
# Docker's int64 byte counts.
MAX_MEMORY = 1024**4
DOCKER_MIN_CPUS = 0.01  # moby: "Range of CPUs is from 0.01 to N"; below, NanoCPUs round to 0
MAX_SECONDS = 7 * 24 * 3600  # a week: past it a "limit" no longer limits anything


def size_text(n: int) -> str:
    """A size as people write it: "16 GB", "512 MB", "3.5 KB" (binary units, as Render's)."""
    for unit, factor in (("TB", 1024**4), ("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if n >= factor:
            return f"{n / factor:.3g} {unit}"
    return f"{n} bytes"


def parse_bytes(text: str, option: str = "--memory", maximum: int = MAX_MEMORY) -> int:
    """`8g`, `512m`, `2048mb`, `1.5GiB` -> bytes (Docker's minimum of 6 MB to `maximum`)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*", text.lower())
    if not match:
        raise UsageError(f"{option} {text!r} is not a size", hint="write it like 8g, 512m or 2048m")
    factor = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[match.group(2)]
    value = float(match.group(1)) * factor
    accepted = f"accepted: 6m to {maximum // 1024**3}g"
    if value < DOCKER_MIN_MEMORY:
        raise UsageError(
            f"{option} {text} is below Docker's minimum of 6 MB ({accepted})",
            hint="give at least 64m",
        )
    if value > maximum:
        raise UsageError(
            f"{option} {text[:40]} is more than render-sim accepts ({accepted})",
            hint=f"give {option} within that range (Render's build pipeline: 8g of memory, 16g of disk)",
        )
    return int(value)


def parse_cpus(value: float, option: str = "--cpus") -> float:
    """A CPU limit: a finite number from 0.01 up (the engine's own count is checked with it)."""
    if not math.isfinite(value) or value < DOCKER_MIN_CPUS:
        raise UsageError(
            f"{option} {value:g} is not a CPU limit Docker can set "
            f"(accepted: {DOCKER_MIN_CPUS:g} up to the engine's CPU count)",
            hint=f"give {option} like 2 (Render's build pipeline) or 0.5",
        )
    return value


def parse_seconds(
    text: str, option: str, *, allow_zero: bool = True, maximum: float = MAX_SECONDS
) -> float:
    """Minutes (`120`), or `90s` / `30m` / `2h` -> seconds (0 only when `allow_zero`)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smh]?)\s*", text.lower())
    if not match:
        raise UsageError(
            f"{option} {text!r} is not a duration", hint="write minutes (120) or 90s / 30m / 2h"
        )
    seconds = float(match.group(1)) * {"s": 1, "": 60, "m": 60, "h": 3600}[match.group(2)]
    lowest = "0 (never)" if allow_zero else "more than 0"
    accepted = f"accepted: {lowest} to {maximum / 3600:g}h"
    if (seconds == 0 and not allow_zero) or seconds > maximum:
        raise UsageError(
            f"{option} {text[:40]} is outside the range render-sim accepts ({accepted})",
            hint=f"give {option} like 120m (Render's build time limit)",
        )
    return seconds


def parse_date(text: str | None, option: str = "--created") -> date | None:
    """`YYYY-MM-DD` -> a date (None stays None: the caller's default applies)."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r} is not a date", hint="write it as YYYY-MM-DD"
        ) from None


# Docker's image reference grammar (github.com/distribution/reference, reference.go):
# [domain[:port]/]path[:tag][@digest], the path lower-case; or an image ID.
_DOMAIN = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?"
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_REFERENCE = re.compile(
    rf"(?:{_DOMAIN}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    r"(?::[\w][\w.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)
_IMAGE_ID = re.compile(r"(?:sha256:)?[0-9a-f]{12,64}")
MAX_IMAGE_NAME = 255  # the longest name Docker accepts (reference.NameTotalLengthMax)


def parse_image_reference(text: str, option: str = "--base-image") -> str:
    """A Docker image reference (`python:3.13-slim`, `registry:5000/team/base@sha256:...`) or
    image ID, checked before Docker is asked: the engine answers a malformed one with an HTTP
    error, not a message a user can act on."""
    name = text.split("@", 1)[0]
    if ":" in name.rsplit("/", 1)[-1]:
        name = name.rsplit(":", 1)[0]  # the tag
    reference = _IMAGE_REFERENCE.fullmatch(text) is not None and len(name) <= MAX_IMAGE_NAME
    if not reference and _IMAGE_ID.fullmatch(text) is None:
        raise UsageError(
            f"{option} is not a Docker image reference",
            hint="write NAME[:TAG][@DIGEST] in lower case, e.g. python:3.13.4-slim-bookworm "
            "or registry.example.com:5000/team/base:1.0",
        )
    return text
