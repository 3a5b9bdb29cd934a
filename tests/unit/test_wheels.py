"""Wheel facts: tag compatibility from filenames, the index client against a local HTTP server,
the disk cache and the offline fallback. Only the `network` test talks to PyPI."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from simulator.index.client import PackageIndex
from simulator.index.listing import DistFile
from simulator.index.wheels import (
    find_parent_upgrade,
    first_parent_version_with_wheels,
    first_release_where,
    first_version_with_wheel,
    has_wheel_for,
    newest_python_with_wheels,
    release_installs_on,
    wheel_installs_on,
)

# -- tag logic (no network) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "python", "expected"),
    [
        (
            "pydantic_core-2.23.4-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "3.13",
            True,
        ),
        (
            "pydantic_core-2.23.4-cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "3.14",
            False,
        ),
        (
            "pydantic_core-2.41.1-cp314-cp314-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "3.14.3",
            True,
        ),
        (
            "pydantic_core-2.41.1-cp314-cp314t-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "3.14",
            False,
        ),
        ("pydantic_core-2.23.4-cp313-cp313-musllinux_1_1_x86_64.whl", "3.13", False),
        ("pydantic_core-2.23.4-cp313-cp313-manylinux_2_17_aarch64.whl", "3.13", False),
        ("pydantic_core-2.23.4-cp313-cp313-macosx_11_0_arm64.whl", "3.13", False),
        ("cryptography-43.0.0-cp39-abi3-manylinux_2_28_x86_64.whl", "3.14", True),
        ("numpy-2.3.0-cp313-cp313-manylinux_2_39_x86_64.whl", "3.13", False),
        ("numpy-2.3.0-cp313-cp313-manylinux_2_36_x86_64.whl", "3.13", True),
        ("torch-1.13.1-cp37-cp37m-manylinux1_x86_64.whl", "3.7", True),
        ("torch-2.3.1+cpu-cp312-cp312-linux_x86_64.whl", "3.12", True),
        ("fastapi-0.111.0-py3-none-any.whl", "3.14", True),
        ("six-1.16.0-py2.py3-none-any.whl", "cp313", True),
        ("not-a-wheel.whl", "3.13", False),
    ],
)
def test_wheel_filename_installs_on_render_python(
    filename: str, python: str, expected: bool
) -> None:
    assert wheel_installs_on(filename, python) is expected


def test_wheel_for_newer_glibc_installs_when_glibc_allows() -> None:
    name = "numpy-2.3.0-cp313-cp313-manylinux_2_39_x86_64.whl"
    assert wheel_installs_on(name, "3.13", glibc=(2, 39))
    assert not wheel_installs_on(name, "3.13", glibc=(2, 36))


def test_sdist_whose_requires_python_allows_counts_as_installable() -> None:
    files = [DistFile("pyaudio-0.2.14.tar.gz", requires_python=">=3.7")]
    assert release_installs_on(files, "3.13")
    assert not release_installs_on([DistFile("x-1.0.tar.gz", requires_python="<3.8")], "3.13")


# -- a local index ------------------------------------------------------------------------------


class FakeIndexServer:
    """An HTTP server on 127.0.0.1 that serves the responses a test puts in `routes`."""

    def __init__(self) -> None:
        self.routes: dict[str, tuple[int, str, bytes]] = {}
        self.requests: list[str] = []
        routes, requests = self.routes, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                requests.append(self.path)
                status, content_type, body = routes.get(self.path, (404, "text/plain", b"no"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def json(self, path: str, data: object, content_type: str = "application/json") -> None:
        self.routes[path] = (200, content_type, json.dumps(data).encode())

    def text(self, path: str, body: str, content_type: str = "text/plain") -> None:
        self.routes[path] = (200, content_type, body.encode())

    def project(
        self, name: str, releases: dict[str, list[str]], requires_python: str | None = None
    ) -> None:
        """Serve /pypi/<name>/json the way PyPI does (with relative file URLs, like mirrors)."""
        self.json(
            f"/pypi/{name}/json",
            {
                "info": {"name": name},
                "releases": {
                    version: [
                        {
                            "filename": filename,
                            "requires_python": requires_python,
                            "yanked": False,
                            "url": f"../../files/{filename}",
                        }
                        for filename in files
                    ]
                    for version, files in releases.items()
                },
            },
        )

    def requires(self, name: str, version: str, requires_dist: list[str] | None) -> None:
        self.json(f"/pypi/{name}/{version}/json", {"info": {"requires_dist": requires_dist}})


@pytest.fixture
def index_server() -> Iterator[FakeIndexServer]:
    server = FakeIndexServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def _manylinux(name: str, version: str, tag: str) -> str:
    return f"{name}-{version}-{tag}-{tag}-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"


def _core_releases() -> dict[str, list[str]]:
    return {
        "2.18.4": [_manylinux("pydantic_core", "2.18.4", "cp312"), "pydantic_core-2.18.4.tar.gz"],
        "2.23.4": [_manylinux("pydantic_core", "2.23.4", "cp313"), "pydantic_core-2.23.4.tar.gz"],
        "2.33.2": [_manylinux("pydantic_core", "2.33.2", "cp313")],
        "2.35.0": [_manylinux("pydantic_core", "2.35.0", "cp314")],
        "2.41.1": [
            _manylinux("pydantic_core", "2.41.1", "cp313"),
            _manylinux("pydantic_core", "2.41.1", "cp314"),
        ],
    }


def test_files_and_versions_come_from_the_json_api(
    index_server: FakeIndexServer, tmp_path: Path
) -> None:
    index_server.project("pydantic-core", _core_releases(), requires_python=">=3.8")
    index = PackageIndex(index_server.url, cache_dir=tmp_path)
    assert list(index.versions("pydantic_core")) == [
        "2.18.4",
        "2.23.4",
        "2.33.2",
        "2.35.0",
        "2.41.1",
    ]
    files = index.files("Pydantic-Core", "2.23.4")
    assert files.checked and files.origin == "network"
    assert files[0].requires_python == ">=3.8"
    assert files[0].url == f"{index_server.url}/files/{files[0].filename}"


def test_missing_project_is_checked_and_empty(
    index_server: FakeIndexServer, tmp_path: Path
) -> None:
    index = PackageIndex(index_server.url, cache_dir=tmp_path)
    versions = index.versions("no-such-project")
    assert versions == [] and versions.checked


def test_pep691_simple_json_is_used_when_there_is_no_json_api(
    index_server: FakeIndexServer, tmp_path: Path
) -> None:
    filename = _manylinux("tiktoken", "0.8.0", "cp313")
    index_server.json(
        "/simple/tiktoken/",
        {"files": [{"filename": filename, "url": f"/f/{filename}", "requires-python": ">=3.9"}]},
        content_type="application/vnd.pypi.simple.v1+json",
    )
    index = PackageIndex(index_server.url, cache_dir=tmp_path)
    assert has_wheel_for(index, "tiktoken", "0.8.0", "3.13") is True


def test_pep503_html_simple_index_is_understood(
    index_server: FakeIndexServer, tmp_path: Path
) -> None:
    filename = _manylinux("asyncpg", "0.27.0", "cp311")
    index_server.text(
        "/simple/asyncpg/",
        f'<html><body><a href="../../f/{filename}#sha256=00" data-requires-python="&gt;=3.7">'
        f'{filename}</a><a href="../../f/asyncpg-0.26.0.tar.gz">asyncpg-0.26.0.tar.gz</a></body></html>',
        content_type="text/html",
    )
    index = PackageIndex(f"{index_server.url}/simple", cache_dir=tmp_path)
    assert list(index.versions("asyncpg")) == ["0.26.0", "0.27.0"]
    assert index.files("asyncpg", "0.27.0")[0].requires_python == ">=3.7"
    assert first_version_with_wheel(index, "asyncpg", "3.11") == "0.27.0"


def test_requires_dist_comes_from_the_release_json(
    index_server: FakeIndexServer, tmp_path: Path
) -> None:
    index_server.project("pydantic", {"2.9.2": ["pydantic-2.9.2-py3-none-any.whl"]})
    index_server.requires("pydantic", "2.9.2", ["pydantic-core==2.23.4", "annotated-types>=0.6.0"])
    index = PackageIndex(index_server.url, cache_dir=tmp_path)
    requires = index.requires_dist("pydantic", "2.9.2")
    assert requires.checked and "pydantic-core==2.23.4" in requires


def test_requires_dist_falls_back_to_pep658_wheel_metadata(
    index_server: FakeIndexServer, tmp_path: Path
) -> None:
    index_server.project("pydantic", {"2.12.0": ["pydantic-2.12.0-py3-none-any.whl"]})
    index_server.text(
        "/files/pydantic-2.12.0-py3-none-any.whl.metadata",
        "Metadata-Version: 2.3\nName: pydantic\nVersion: 2.12.0\n"
        "Requires-Dist: pydantic-core==2.41.1\nRequires-Dist: typing-extensions>=4.14.1\n",
    )
    index = PackageIndex(index_server.url, cache_dir=tmp_path)
    assert list(index.requires_dist("pydantic", "2.12.0")) == [
        "pydantic-core==2.41.1",
        "typing-extensions>=4.14.1",
    ]


def test_requires_dist_without_any_metadata_is_unchecked(
    index_server: FakeIndexServer, tmp_path: Path
) -> None:
    index_server.project("pydantic", {"2.14.0": ["pydantic-2.14.0-py3-none-any.whl"]})
    index = PackageIndex(index_server.url, cache_dir=tmp_path)
    requires = index.requires_dist("pydantic", "2.14.0")
    assert requires == [] and not requires.checked


def test_answers_are_cached_on_disk_for_offline_use(
    index_server: FakeIndexServer, tmp_path: Path
) -> None:
    index_server.project("pydantic-core", _core_releases())
    PackageIndex(index_server.url, cache_dir=tmp_path).versions("pydantic-core")
    offline = PackageIndex(index_server.url, cache_dir=tmp_path, offline=True)
    versions = offline.versions("pydantic-core")
    assert versions.checked and versions.origin == "cache" and "2.41.1" in versions


def test_expired_cache_is_refetched(index_server: FakeIndexServer, tmp_path: Path) -> None:
    index_server.project("pydantic-core", _core_releases())
    PackageIndex(index_server.url, cache_dir=tmp_path).versions("pydantic-core")
    index_server.requests.clear()
    PackageIndex(index_server.url, cache_dir=tmp_path, ttl=0).versions("pydantic-core")
    assert index_server.requests == ["/pypi/pydantic-core/json"]


def _closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_unreachable_index_answers_unchecked_without_raising(tmp_path: Path) -> None:
    index = PackageIndex(_closed_port_url(), cache_dir=tmp_path, timeout=2)
    assert not index.versions("pydantic-core").checked
    assert not index.requires_dist("pydantic", "2.9.2").checked
    assert has_wheel_for(index, "pydantic-core", "2.23.4", "3.14") is None
    assert first_version_with_wheel(index, "pydantic-core", "3.14") is None


def test_unreachable_index_falls_back_to_a_stale_cache(
    index_server: FakeIndexServer, tmp_path: Path
) -> None:
    index_server.project("pydantic-core", _core_releases())
    PackageIndex(index_server.url, cache_dir=tmp_path).versions("pydantic-core")
    index_server.server.shutdown()
    index_server.server.server_close()
    index = PackageIndex(index_server.url, cache_dir=tmp_path, ttl=0, timeout=2)
    versions = index.versions("pydantic-core")
    assert versions.checked and versions.origin == "stale-cache"


def test_offline_index_without_cache_is_unchecked(tmp_path: Path) -> None:
    index = PackageIndex(cache_dir=tmp_path, offline=True)
    assert not index.files("pydantic-core", "2.23.4").checked


# -- questions a fix asks -----------------------------------------------------------------------


@pytest.fixture
def pydantic_index(index_server: FakeIndexServer, tmp_path: Path) -> PackageIndex:
    """pydantic releases pinning pydantic-core the way the real ones do."""
    index_server.project("pydantic-core", _core_releases())
    pins = {"2.7.4": "2.18.4", "2.9.2": "2.23.4", "2.11.7": "2.33.2", "2.12.0": "2.41.1"}
    index_server.project("pydantic", {v: [f"pydantic-{v}-py3-none-any.whl"] for v in pins})
    for version, core in pins.items():
        index_server.requires("pydantic", version, [f"pydantic-core=={core}"])
    return PackageIndex(index_server.url, cache_dir=tmp_path)


def test_has_wheel_for_tells_which_python_a_release_supports(pydantic_index: PackageIndex) -> None:
    assert has_wheel_for(pydantic_index, "pydantic-core", "2.23.4", "3.13") is True
    assert has_wheel_for(pydantic_index, "pydantic-core", "2.23.4", "3.14") is False


def test_newest_python_with_wheels_walks_down_from_the_newest(pydantic_index: PackageIndex) -> None:
    assert (
        newest_python_with_wheels(pydantic_index, "pydantic-core", "2.18.4", ["3.13", "3.12"])
        == "3.12"
    )
    assert (
        newest_python_with_wheels(pydantic_index, "pydantic-core", "2.18.4", ["3.14", "3.13"])
        is None
    )


def test_first_version_with_wheel_respects_the_minimum(pydantic_index: PackageIndex) -> None:
    assert first_version_with_wheel(pydantic_index, "pydantic-core", "3.14") == "2.35.0"
    assert (
        first_version_with_wheel(pydantic_index, "pydantic-core", "3.13", minimum="2.20")
        == "2.23.4"
    )


def test_first_parent_version_pins_a_child_with_wheels(pydantic_index: PackageIndex) -> None:
    found = first_parent_version_with_wheels(
        pydantic_index, "pydantic", "pydantic-core", "3.14", child_minimum="2.18.4"
    )
    assert found == "2.12.0"
    upgrade = find_parent_upgrade(pydantic_index, "pydantic", "pydantic-core", "3.13", "2.7.4")
    assert upgrade is not None
    assert (upgrade.parent_version, upgrade.child_version, upgrade.child_specifier) == (
        "2.9.2",
        "2.23.4",
        "==2.23.4",
    )


def test_first_release_where_binary_searches_a_monotonic_question(
    pydantic_index: PackageIndex,
) -> None:
    asked: list[str] = []

    def new_enough(version: str) -> bool:
        asked.append(version)
        return version in ("2.11.7", "2.12.0")

    assert first_release_where(pydantic_index, "pydantic", new_enough) == "2.11.7"
    assert len(asked) <= 4


# -- the real index ----------------------------------------------------------------------------


@pytest.mark.network
def test_pypi_pydantic_core_2_23_4_has_cp313_but_no_cp314_manylinux_wheel(tmp_path: Path) -> None:
    index = PackageIndex(cache_dir=tmp_path)
    assert has_wheel_for(index, "pydantic-core", "2.23.4", "3.13") is True
    assert has_wheel_for(index, "pydantic-core", "2.23.4", "3.14") is False
