"""The image data files and the cache key (no Docker)."""

from __future__ import annotations

from simulator.build import image_build
from simulator.plan import base_images


def test_every_tool_left_out_says_why() -> None:
    assert all(t.installed or t.why for t in base_images.build_tools())


def test_build_essentials_are_installed() -> None:
    packages = set(base_images.tool_packages())
    assert {"gcc", "g++", "make", "git", "curl"} <= packages


def test_offline_pythons_are_311_313_314_315_and_not_312() -> None:
    pythons = base_images.standin_suites().pythons
    assert {"3.11", "3.13", "3.14", "3.15"} <= set(pythons)
    assert "3.12" not in pythons


def test_official_base_is_the_bookworm_slim_image() -> None:
    assert base_images.official_base("3.14.3") == "python:3.14.3-slim-bookworm"


def test_image_key_changes_with_what_built_it() -> None:
    base = base_images.BaseImage(
        "python:3.13.4-slim-bookworm", "official", "sha256:aaa", "3.13.4", "2.36", "bookworm"
    )
    spec = image_build.ImageSpec("3.13.4", base, "2.1.3")
    assert spec.key == image_build.ImageSpec("3.13.4", base, "2.1.3").key
    assert spec.key != image_build.ImageSpec("3.13.4", base, "1.7.1").key
    assert spec.key != image_build.ImageSpec("3.13.4", base, "2.1.3", ca_bundle=b"ca").key
    other = base_images.BaseImage("python:3.13.4-slim-bookworm", "official", "sha256:bbb")
    assert spec.key != image_build.ImageSpec("3.13.4", other, "2.1.3").key


def test_standin_differences_name_patch_and_glibc() -> None:
    base = base_images.BaseImage(
        "render-sim/python-standin:3.14-forky-x", "standin", "id", "3.14.8", "2.43", "forky"
    )
    text = " ".join(base.differences("3.14.3"))
    assert "3.14.8" in text and "3.14.3" in text
    assert "2.43" in text and "2.36" in text


def test_official_base_has_no_differences() -> None:
    base = base_images.BaseImage(
        "python:3.14.3-slim-bookworm", "official", "id", "3.14.3", "2.36", "bookworm"
    )
    assert base.differences("3.14.3") == []


def test_no_offline_312_error_names_the_ways_out() -> None:
    error = base_images.no_offline_python("3.12.8")
    assert error.return_code == 5
    assert "--base-image" in (error.hint or "") and "docker pull" in (error.hint or "")
