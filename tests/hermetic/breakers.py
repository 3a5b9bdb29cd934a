"""Packages of the hermetic index that break the way real releases do on a new Python or toolchain.

Each one reproduces a failure class with the real tools (pip, uv, Poetry, gcc, setuptools) and
nothing faked: the failure comes from how the package is built, not from a message it prints.

- `rsim-guard` 0.40.1: wheels up to CPython 3.13, and an sdist whose setup.py refuses newer
  Pythons with the guard numba and llvmlite use (`Cannot install on Python version ...`);
- `rsim-abi` 1.0: wheels for CPython 3.12 and 3.13 only, no sdist;
- `rsim-old` 1.0: a wheel whose Requires-Python stops at 3.11 (pip honours the upper bound);
- `rsim-new` 1.0: a wheel whose Requires-Python starts at 3.12;
- `rsim-longint` 0.1.0: a C extension including `longintrepr.h`, which CPython 3.11 moved out of
  the public headers (old Cython output did this);
- `rsim-legacy` 1.0: built with setuptools 59.2.0, which imports distutils (removed in 3.12);
- `rsim-pkgres` 1.0: its setup.py imports pkg_resources, which setuptools 82 no longer ships;
- `rsim-fill` 0.1.0: its build writes 64 MiB to the temporary directory (a small disk fills).
"""

from __future__ import annotations

import textwrap

from tests.hermetic.packages import Dist, module, sdist, setuptools_pyproject, wheel

GUARD_RANGE = (">=3.10", "<3.14")


def _dedent(text: str) -> str:
    return textwrap.dedent(text).lstrip("\n")


MANYLINUX = "manylinux_2_17_x86_64.manylinux2014_x86_64"


def _cp(minor: int) -> str:
    return f"cp3{minor}-cp3{minor}-{MANYLINUX}"


def rsim_guard() -> list[Dist]:
    """Wheels for CPython 3.10-3.13 and an sdist whose setup.py rejects any other Python."""
    version = "0.40.1"
    low, high = GUARD_RANGE
    guard = _dedent(
        f"""
        import sys

        from setuptools import setup

        min_python_version = "{low[2:]}"
        max_python_version = "{high[1:]}"  # exclusive


        def _guard_py_ver():
            def parse(s):
                return tuple(map(int, s.partition("+")[0].split(".")[:2]))

            current = sys.version_info[:2]
            if not parse(min_python_version) <= current < parse(max_python_version):
                cur_py = ".".join(map(str, sys.version_info[:3]))
                msg = "Cannot install on Python version {{}}; only versions >={{}},<{{}} are supported."
                raise RuntimeError(msg.format(cur_py, min_python_version, max_python_version))


        _guard_py_ver()
        setup(packages=["rsim_guard"])
        """
    )
    summary = "Wheels up to 3.13, an sdist that refuses newer Pythons (render-sim test package)"
    source = sdist(
        "rsim-guard",
        version,
        {
            "pyproject.toml": setuptools_pyproject("rsim-guard", version, summary),
            "setup.py": guard,
            **module("rsim-guard", version),
        },
        summary,
    )
    wheels = [
        wheel("rsim-guard", version, module("rsim-guard", version), tag=_cp(m))
        for m in (10, 11, 12, 13)
    ]
    return [*wheels, source]


def rsim_abi() -> list[Dist]:
    """Only CPython 3.12 and 3.13 wheels: nothing an installer may take on 3.14."""
    return [wheel("rsim-abi", "1.0", module("rsim-abi", "1.0"), tag=_cp(m)) for m in (12, 13)]


def rsim_old() -> Dist:
    """A pure-Python wheel for Pythons before 3.12 (its Requires-Python says so)."""
    return wheel("rsim-old", "1.0", module("rsim-old", "1.0"), requires_python=">=3.8,<3.12")


def rsim_new() -> Dist:
    """A pure-Python wheel for Python 3.12 and newer (its Requires-Python says so)."""
    return wheel("rsim-new", "1.0", module("rsim-new", "1.0"), requires_python=">=3.12")


def rsim_longint() -> Dist:
    """A C extension written against CPython 3.10's private headers, as old Cython output was."""
    summary = "A C extension including longintrepr.h (render-sim test package)"
    return sdist(
        "rsim-longint",
        "0.1.0",
        {
            "pyproject.toml": setuptools_pyproject("rsim-longint", "0.1.0", summary),
            "setup.py": _dedent(
                """
                from setuptools import Extension, setup

                setup(
                    packages=["rsim_longint"],
                    ext_modules=[Extension("rsim_longint._digits", ["rsim_longint/_digits.c"])],
                )
                """
            ),
            "rsim_longint/__init__.py": "from rsim_longint._digits import ndigits\n",
            "rsim_longint/_digits.c": _dedent(
                """
                #include <Python.h>
                #include "longintrepr.h"

                static PyObject *ndigits(PyObject *self, PyObject *arg) {
                    return PyLong_FromSsize_t(Py_SIZE((PyLongObject *)arg));
                }

                static PyMethodDef methods[] = {{"ndigits", ndigits, METH_O, NULL}, {NULL}};
                static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_digits", NULL, -1, methods};
                PyMODINIT_FUNC PyInit__digits(void) { return PyModule_Create(&module); }
                """
            ),
        },
        summary,
    )


def rsim_legacy() -> Dist:
    """Built with setuptools 59.2.0 (as numpy 1.24 pinned), which imports distutils itself."""
    summary = "An sdist built with setuptools 59.2.0 (render-sim test package)"
    return sdist(
        "rsim-legacy",
        "1.0",
        {
            "pyproject.toml": setuptools_pyproject(
                "rsim-legacy", "1.0", summary, requires='"setuptools==59.2.0"'
            ),
            "setup.py": "from setuptools import setup\n\nsetup(packages=['rsim_legacy'])\n",
            **module("rsim-legacy", "1.0"),
        },
        summary,
    )


def rsim_pkgres() -> Dist:
    """A setup.py that imports pkg_resources, built with the setuptools that dropped it."""
    summary = "A setup.py importing pkg_resources (render-sim test package)"
    return sdist(
        "rsim-pkgres",
        "1.0",
        {
            "pyproject.toml": setuptools_pyproject(
                "rsim-pkgres", "1.0", summary, requires='"setuptools>=82"'
            ),
            "setup.py": _dedent(
                """
                from pkg_resources import parse_version
                from setuptools import setup

                assert parse_version("1.0") < parse_version("2.0")
                setup(packages=["rsim_pkgres"])
                """
            ),
            **module("rsim-pkgres", "1.0"),
        },
        summary,
    )


def rsim_fill() -> Dist:
    """A build that writes 64 MiB to the temporary directory before it finishes."""
    summary = "A build that needs 64 MiB of temporary space (render-sim test package)"
    return sdist(
        "rsim-fill",
        "0.1.0",
        {
            "pyproject.toml": setuptools_pyproject("rsim-fill", "0.1.0", summary),
            "setup.py": _dedent(
                """
                import tempfile

                from setuptools import setup
                from setuptools.command.build_py import build_py


                class build_assets(build_py):
                    \"\"\"Render lookup assets to a scratch file, as big native builds do.\"\"\"

                    def run(self):
                        with tempfile.TemporaryFile() as scratch:
                            for step in range(1, 65):
                                scratch.write(b"\\x00" * (1024 * 1024))
                                scratch.flush()
                        super().run()


                setup(packages=["rsim_fill"], cmdclass={"build_py": build_assets})
                """
            ),
            **module("rsim-fill", "0.1.0"),
        },
        summary,
    )


def dists() -> list[Dist]:
    """Every file these packages add to the index, in a stable order."""
    return [
        *rsim_guard(),
        *rsim_abi(),
        rsim_old(),
        rsim_new(),
        rsim_longint(),
        rsim_legacy(),
        rsim_pkgres(),
        rsim_fill(),
    ]
