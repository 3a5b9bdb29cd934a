"""Which Python a failed build used, as the log shows it, and the template fields describing it.

Render's own `==> Using Python version 3.14.3 (default)` line is trusted first, then the
version the caller's build plan gives, then what build tools printed, in order of trust:
maturin's `--interpreter`, PyO3's message, interpreter reports, cargo's `Py_3_x` flags, the cpXY
tags of downloaded wheels, interpreter paths.
"""

from __future__ import annotations

import re

from simulator.diagnose.diagnosis import DiagnosisContext, PythonInfo
from simulator.diagnose.scan import Matcher, ScannedLog, fixed_matcher, pick_near

RENDER_PYTHON_LINE = fixed_matcher(
    r"==> Using Python version (?P<v>3\.\d+\.\d+)(?: \((?P<default>default)\)| via (?P<via>.+))?"
)
# Sources in order of trust; each pattern has group "v" ("3.14") or "m" (the minor: "14").
_PY_SOURCES: tuple[tuple[str, tuple[Matcher, ...]], ...] = (
    (
        "maturin-interpreter",
        (
            fixed_matcher(
                r"--interpreter['\",\s]+[^\s'\",]*?python(?P<v>3\.\d+)\b", ["--interpreter"]
            ),
            fixed_matcher(
                r"maturin pep517 \S+ -i ['\"]?[^\s'\",]*?python(?P<v>3\.\d+)\b", ["maturin pep517"]
            ),
            fixed_matcher(
                r"'maturin', 'pep517', '[\w-]+', '-i', '[^']*?python(?P<v>3\.\d+)'", ["'maturin'"]
            ),
        ),
    ),
    (
        "pyo3-message",
        (fixed_matcher(r"interpreter version \((?P<v>3\.\d+)\) is newer than PyO3", ["PyO3"]),),
    ),
    (
        "interpreter-report",
        (
            fixed_matcher(r"Found CPython (?P<v>3\.\d+)"),
            fixed_matcher(r"SOABI: cpython-3(?P<m>\d+)"),
            fixed_matcher(r"Using CPython (?P<v>3\.\d+\.\d+)"),
            fixed_matcher(r"Using Python (?P<v>3\.\d+\.\d+) environment at"),
            fixed_matcher(r"installed using Python (?P<v>3\.\d+\.\d+)"),
            fixed_matcher(r"Cannot install on Python version (?P<v>3\.\d+\.\d+)"),
            fixed_matcher(r"You're using CPython (?P<v>3\.\d+)"),
        ),
    ),
    ("cargo-cfg", (fixed_matcher(r"cargo:rustc-cfg=Py_3_(?P<m>\d+)\b"),)),
    (
        "wheel-tag",
        (
            fixed_matcher(
                r"(?:Downloading|Using cached|Downloaded)\s+\S*?-cp3(?P<m>\d+)-(?:cp3\d+m?|abi3|none)-",
                ["-cp3"],
            ),
        ),
    ),
    (
        "path",
        (
            fixed_matcher(r"/python(?P<v>3\.\d{1,2})(?:/|\b)", ["/python3."]),
            fixed_matcher(r"cpython-3(?P<m>\d{1,2})\b", ["cpython-3"]),
        ),
    ),
)
_PYTHON_SOURCE_TEXT = {
    "render-log": "the Python Render installed",
    "context": "the Python of the build plan",
    "maturin-interpreter": "the interpreter maturin built for",
    "pyo3-message": "as PyO3 reported it",
    "interpreter-report": "as the build tool reported it",
    "cargo-cfg": "from cargo's Py_3_x build flags",
    "wheel-tag": "from the cpXY tags of the wheels pip downloaded",
    "path": "from the interpreter paths in the log",
}
_SELECTED_BY_TEXT = {
    "default": "Render's default for this service; neither PYTHON_VERSION nor .python-version is set",
    "PYTHON_VERSION": "set by the PYTHON_VERSION environment variable",
    ".python-version": "set by the .python-version file",
}


def _python_from_match(match: re.Match[str]) -> str:
    groups = match.groupdict()
    if groups.get("v"):
        return groups["v"]
    return f"3.{groups['m']}"


def _selected_by(text: str | None) -> str | None:
    if not text:
        return None
    lowered = text.lower()
    if "default" in lowered:
        return "default"
    if "python_version" in lowered or "environment" in lowered:
        return "PYTHON_VERSION"
    if "python-version" in lowered:
        return ".python-version"
    return None


def find_python(
    log: ScannedLog, context: DiagnosisContext | None, anchor: int | None
) -> PythonInfo | None:
    """The Python a build used: Render's line, then the context, then what tools printed."""
    hits = log.hits(RENDER_PYTHON_LINE)
    if hits:
        hit = pick_near(hits, anchor)
        via = hit.match.group("via")
        selected = "default" if hit.match.group("default") else _selected_by(via)
        line = log.line_numbers([hit.start])[hit.start]
        return PythonInfo(hit.match.group("v"), "render-log", line, selected)
    if context and context.python_version:
        return PythonInfo(
            context.python_version, "context", None, _selected_by(context.python_source)
        )
    for source, matchers in _PY_SOURCES:
        found = [hit for matcher in matchers for hit in log.hits(matcher)]
        if not found:
            continue
        if source == "cargo-cfg":  # a build script lists every Py_3_x up to the interpreter
            hit = max(found, key=lambda h: int(h.match.group("m")))
        else:
            hit = pick_near(sorted(found, key=lambda h: h.start), anchor)
        line = log.line_numbers([hit.start])[hit.start]
        return PythonInfo(_python_from_match(hit.match), source, line)
    return None


def python_fields(python: PythonInfo | None) -> dict[str, str]:
    """The template fields naming the build's Python and where it came from."""
    if python is None:
        return {
            "python": "",
            "python_label": "this Python version",
            "python_minor": "",
            "cp_tag": "matching",
            "python_source": "not shown in the log",
        }
    minor = python.minor
    source = _SELECTED_BY_TEXT.get(python.selected_by or "") or _PYTHON_SOURCE_TEXT[python.source]
    return {
        "python": python.version,
        "python_label": f"Python {python.version}",
        "python_minor": f"{minor[0]}.{minor[1]}" if minor else python.version,
        "cp_tag": f"cp{minor[0]}{minor[1]}" if minor else "matching",
        "python_source": source,
    }
