"""The generators of the hermetic fixtures (tests/hermetic/packages.py) and what pins them.

The packages and crates are made by code, byte for byte the same on every run, and the uv.lock
files committed in scenarios/ pin their sha256: if a generator changes, these tests say so and
name the command that rewrites the locks.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import re
import sys
import tarfile
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.hermetic import backends, packages, registry

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

PROJECT_ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = PROJECT_ROOT / "scenarios"
UV_SCENARIOS = ("uv-frozen-heavy-group", "uv-frozen-no-dev")
RELOCK = ".venv/bin/python -m tests.hermetic.relock"


def tree(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def dists_by_filename() -> dict[str, packages.Dist]:
    return {d.filename: d for d in packages.python_dists()}


# -- deterministic bytes ------------------------------------------------------------------------


def test_python_dists_are_the_same_bytes_on_every_call() -> None:
    first = [(d.filename, d.sha256) for d in packages.python_dists()]
    second = [(d.filename, d.sha256) for d in packages.python_dists()]
    assert first == second
    assert len({name for name, _ in first}) == len(first)


def test_crates_are_the_same_bytes_on_every_call() -> None:
    assert [c.cksum for c in registry.crates()] == [c.cksum for c in registry.crates()]


def test_generate_writes_identical_trees(tmp_path: Path) -> None:
    one = packages.generate(tmp_path / "one", [])
    two = packages.generate(tmp_path / "two", [])
    assert tree(one.index) == tree(two.index)
    assert tree(one.crates) == tree(two.crates)
    assert tree(one.index), "the index is empty"


def test_sdists_are_normalised_tarballs() -> None:
    for dist in packages.python_dists():
        if not dist.filename.endswith(".tar.gz"):
            continue
        assert dist.data[4:8] == b"\0\0\0\0", f"{dist.filename}: gzip header carries a time"
        with tarfile.open(fileobj=io.BytesIO(dist.data), mode="r:gz") as archive:
            members = archive.getmembers()
        names = [m.name for m in members]
        assert names == sorted(names), dist.filename
        stem = dist.filename.removesuffix(".tar.gz")
        assert f"{stem}/PKG-INFO" in names and f"{stem}/pyproject.toml" in names, names
        assert all(m.mtime == 0 and m.uid == 0 and m.mode == 0o644 for m in members), dist.filename


def test_wheels_record_every_file_with_its_hash() -> None:
    for dist in packages.python_dists():
        if not dist.filename.endswith(".whl"):
            continue
        with zipfile.ZipFile(io.BytesIO(dist.data)) as archive:
            names = archive.namelist()
            record_name = next(n for n in names if n.endswith(".dist-info/RECORD"))
            rows = [line.split(",") for line in archive.read(record_name).decode().splitlines()]
            assert sorted(row[0] for row in rows) == sorted(names), dist.filename
            for path, digest, size in rows:
                if path == record_name:
                    assert (digest, size) == ("", "")
                    continue
                data = archive.read(path)
                expected = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                assert digest == f"sha256={expected.decode()}" and int(size) == len(data), path
            assert all(info.date_time == (1980, 1, 1, 0, 0, 0) for info in archive.infolist())


# -- the index ----------------------------------------------------------------------------------


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.links.append(dict(attrs))


def links(page: Path) -> list[dict[str, str | None]]:
    parser = Links()
    parser.feed(page.read_text())
    return parser.links


def test_index_links_every_file_with_its_sha256_and_requires_python(tmp_path: Path) -> None:
    index = packages.generate(tmp_path, []).index
    files = dists_by_filename()
    seen = set()
    for page in sorted((index / "simple").glob("*/index.html")):
        for link in links(page):
            href = str(link["href"])
            target, _, fragment = href.partition("#")
            path = (page.parent / target).resolve()
            assert path.is_file(), href
            assert fragment == f"sha256={hashlib.sha256(path.read_bytes()).hexdigest()}", href
            assert link["data-requires-python"] == files[path.name].requires_python, href
            seen.add(path.name)
    assert seen == set(files)
    projects = {str(link["href"]).rstrip("/") for link in links(index / "simple" / "index.html")}
    assert projects == {str(canonicalize_name(d.project)) for d in files.values()}


def test_backend_wheel_keeps_its_requires_python(tmp_path: Path) -> None:
    made = packages.wheel("rsim-backend", "1.2", {"rsim_backend/__init__.py": ""})
    path = tmp_path / made.filename
    path.write_bytes(made.data)
    dist = backends.backend_dist(path)
    assert (dist.project, dist.version, dist.sha256) == ("rsim_backend", "1.2", made.sha256)
    assert dist.requires_python == packages.REQUIRES_PYTHON


def test_fetch_backends_uses_the_cache_without_pip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = backends.backends_dir(tmp_path)
    target.mkdir(parents=True)
    for name, version in backends.BACKEND_PINS:
        (target / f"{name}-{version}-py3-none-any.whl").write_bytes(b"cached")

    def no_download(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"pip ran although every backend is cached: {args}")

    monkeypatch.setattr(backends.subprocess, "run", no_download)
    found = backends.fetch_backends(tmp_path)
    assert sorted(tuple(p.name.split("-")[:2]) for p in found) == sorted(backends.BACKEND_PINS)


def test_backend_cache_is_keyed_by_the_pins(tmp_path: Path) -> None:
    folder = backends.backends_dir(tmp_path).name
    for name, version in backends.BACKEND_PINS:
        assert f"{name}-{version}" in folder


# -- the registry -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("a", "1/a"),
        ("ab", "2/ab"),
        ("abc", "3/a/abc"),
        ("rsimdemo", "rs/im/rsimdemo"),
        ("RsX1", "rs/x1/rsx1"),
    ],
)
def test_sparse_path(name: str, path: str) -> None:
    assert registry.sparse_path(name) == path


def test_registry_entries_point_at_their_crates(tmp_path: Path) -> None:
    crates_dir = packages.generate(tmp_path, []).crates
    config = json.loads((crates_dir / "config.json").read_text())
    assert config["dl"] == packages.CRATES_DL
    for made in registry.crates():
        lines = (crates_dir / registry.sparse_path(made.name)).read_text().splitlines()
        entries = [json.loads(line) for line in lines]
        entry = next(e for e in entries if e["vers"] == made.version)
        assert set(entry) >= {"name", "vers", "deps", "cksum", "features", "yanked"}
        url = config["dl"].replace("{crate}", made.name).replace("{version}", made.version)
        local = crates_dir / url.removeprefix("http://crates:8000/")
        assert hashlib.sha256(local.read_bytes()).hexdigest() == entry["cksum"] == made.cksum
        for dep in entry["deps"]:
            assert (crates_dir / registry.sparse_path(dep["name"])).is_file(), dep


def test_rust_sdist_reads_its_crates_from_the_fixture_registry() -> None:
    sdist = packages.rsim_rust()
    with tarfile.open(fileobj=io.BytesIO(sdist.data), mode="r:gz") as archive:
        config = archive.extractfile("rsim_rust-0.1.0/.cargo/config.toml")
        assert config is not None
        text = config.read().decode()
    assert f'registry = "{packages.CRATES_INDEX}"' in text
    assert 'replace-with = "rsim-fixtures"' in text


# -- what the scenarios pin ---------------------------------------------------------------------


def test_uv_scenarios_share_one_project_and_lock() -> None:
    first, *rest = (SCENARIOS / name for name in UV_SCENARIOS)
    for other in rest:
        for name in ("pyproject.toml", "uv.lock"):
            assert (other / name).read_bytes() == (first / name).read_bytes(), other / name


@pytest.mark.parametrize("scenario", UV_SCENARIOS)
def test_uv_lock_pins_the_generated_files(scenario: str) -> None:
    lock = tomllib.loads((SCENARIOS / scenario / "uv.lock").read_text())
    files = dists_by_filename()
    drift = []
    pinned = 0
    for package in lock["package"]:
        if package["source"].get("registry") != packages.INDEX_URL:
            continue
        for item in [package.get("sdist"), *package.get("wheels", [])]:
            if not item:
                continue
            pinned += 1
            filename = item["url"].rsplit("/", 1)[-1]
            dist = files.get(filename)
            if dist is None or item["url"] != dist.url or item["hash"] != f"sha256:{dist.sha256}":
                drift.append(filename)
    assert pinned, "the lock pins no file of the fixture index"
    assert not drift, f"uv.lock no longer matches the generated files {drift}: run `{RELOCK}`"


def requirement_pins(folder: Path) -> list[Requirement]:
    text = (folder / "requirements.txt").read_text()
    lines = [line.strip() for line in text.splitlines()]
    return [Requirement(line) for line in lines if line and not line.startswith(("#", "-"))]


def released(project: str) -> set[str]:
    return {d.version for d in packages.python_dists() if canonicalize_name(d.project) == project}


@pytest.mark.parametrize(
    "scenario",
    [
        "rust-sdist-readonly-cargo",
        "rust-sdist-cargo-home",
        "c-extension-missing-header",
        "build-out-of-memory",
        "build-timeout",
        "resolver-conflict",
    ],
)
def test_scenario_requirements_exist_on_the_index(scenario: str) -> None:
    folder = SCENARIOS / scenario
    assert packages.INDEX_URL in (folder / "requirements.txt").read_text()
    for requirement in requirement_pins(folder):
        versions = released(canonicalize_name(requirement.name))
        assert any(v in requirement.specifier for v in versions), (requirement, versions)


def test_no_matching_distribution_asks_for_a_release_the_index_lacks() -> None:
    (requirement,) = requirement_pins(SCENARIOS / "no-matching-distribution")
    versions = released(canonicalize_name(requirement.name))
    assert versions and not any(v in requirement.specifier for v in versions)


def test_resolver_conflict_pins_exclude_each_other() -> None:
    pins = {canonicalize_name(r.name): r for r in requirement_pins(SCENARIOS / "resolver-conflict")}
    wheel = next(d for d in packages.python_dists() if d.filename.startswith("rsim_b-1.0-"))
    with zipfile.ZipFile(io.BytesIO(wheel.data)) as archive:
        metadata = archive.read("rsim_b-1.0.dist-info/METADATA").decode()
    needs = [Requirement(m) for m in re.findall(r"^Requires-Dist: (.+)$", metadata, re.M)]
    (needs_a,) = [r for r in needs if canonicalize_name(r.name) == "rsim-a"]
    (asked,) = pins[canonicalize_name("rsim-a")].specifier
    assert asked.version not in needs_a.specifier
