"""Where render-sim tags its images: `RENDER_SIM_IMAGE_NAMESPACE` (no Docker)."""

from __future__ import annotations

import pytest

from simulator.build import image_build
from simulator.errors import ConfigurationError
from simulator.plan import base_images

BASE = base_images.BaseImage(
    "python:3.14.3-slim-bookworm", "official", "sha256:aaa", "3.14.3", "2.36", "bookworm"
)


def test_images_are_tagged_under_render_sim_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(base_images.NAMESPACE_VAR, raising=False)
    assert image_build.ImageSpec("3.14.3", BASE, "2.1.3").tag.startswith("render-sim/build:3.14.3-")
    assert base_images.standin_tag("3.14").startswith("render-sim/python-standin:3.14-forky-")


def test_the_namespace_moves_build_images_and_standins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(base_images.NAMESPACE_VAR, raising=False)
    spec = image_build.ImageSpec("3.14.3", BASE, "2.1.3")
    default_build, default_standin = spec.tag, base_images.standin_tag("3.14")
    monkeypatch.setenv(base_images.NAMESPACE_VAR, "bench-x/render-sim")
    assert spec.tag == default_build.replace("render-sim/", "bench-x/render-sim/", 1)
    assert base_images.standin_tag("3.14") == default_standin.replace(
        "render-sim/", "bench-x/render-sim/", 1
    )


@pytest.mark.parametrize("bad", ["Render-Sim", "render sim", "render-sim/", "-render", "a//b"])
def test_a_namespace_docker_cannot_tag_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv(base_images.NAMESPACE_VAR, bad)
    with pytest.raises(ConfigurationError) as error:
        base_images.build_repo()
    assert base_images.NAMESPACE_VAR in str(error.value) and error.value.hint
