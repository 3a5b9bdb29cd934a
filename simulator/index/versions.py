"""Versions as an index lists them: read from file names, normalised, sorted (PEP 440 first)."""

from __future__ import annotations

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version


def version_from_filename(filename: str) -> str | None:
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None


def normal_version(version: str) -> str:
    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def version_key(version: str) -> tuple[int, Version | str]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, version)


def parse_version(version: str) -> Version | None:
    try:
        return Version(version)
    except InvalidVersion:
        return None


def parse_python(python: str | tuple[int, int]) -> tuple[int, int]:
    """(3, 14) from "3.14", "3.14.3", "cp314" or (3, 14)."""
    if isinstance(python, tuple):
        return python
    text = python.strip()
    if text.startswith("cp3") and text[3:].isdigit():
        return 3, int(text[3:])
    major, minor = text.split(".")[:2]
    return int(major), int(minor)
