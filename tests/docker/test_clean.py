"""`render-sim clean` removes render-sim's containers and volumes (by label), and only those."""

from __future__ import annotations

import contextlib
import io
import subprocess
import tarfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import docker
import docker.errors
import pytest

pytestmark = pytest.mark.docker


@dataclass(frozen=True)
class CleanRun:
    proc: subprocess.CompletedProcess[str]
    labelled_container: str
    labelled_volume: str
    other_container: str
    other_volume: str
    debug_container: str


def _exists(getter: Callable[[str], Any], name: str) -> bool:
    try:
        getter(name)
    except docker.errors.NotFound:
        return False
    return True


@pytest.fixture(scope="module")
def clean_run(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[CleanRun]:
    """A render-sim-labelled container and volume, an unlabelled pair, then `render-sim clean`."""
    suffix = uuid.uuid4().hex[:8]
    repo = tmp_path_factory.mktemp("clean") / "repo"
    labels = {"render-sim": "1", "render-sim.run": suffix, "render-sim.repo": str(repo)}
    render_sim_image = built_images["3.14"].tag
    user_image = _empty_image(client, f"render-sim-test-empty:{suffix}")
    made: list[Any] = [
        client.volumes.create(name=f"render-sim-test-labelled-{suffix}", labels=labels),
        client.volumes.create(name=f"user-volume-{suffix}", labels={"owner": "someone-else"}),
        client.containers.create(
            render_sim_image, ["true"], name=f"render-sim-test-labelled-{suffix}", labels=labels
        ),
        client.containers.create(user_image, ["true"], name=f"user-container-{suffix}"),
        # A user's own container on render-sim's image (say, to look around in it): it inherits
        # the image's labels, but render-sim did not create it.
        client.containers.create(render_sim_image, ["true"], name=f"user-debug-{suffix}"),
    ]
    try:
        proc = render_sim("clean", timeout=300)
        yield CleanRun(proc, made[2].name, made[0].name, made[3].name, made[1].name, made[4].name)
    finally:
        for thing in reversed(made):
            with contextlib.suppress(docker.errors.NotFound):
                thing.remove(force=True)
        client.images.remove(user_image, force=True)


def _empty_image(client: docker.DockerClient, ref: str) -> str:
    """An image with no labels at all (an empty filesystem: its containers are only created)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        info = tarfile.TarInfo("empty")
        tar.addfile(info, io.BytesIO(b""))
    repository, _, tag = ref.partition(":")
    client.api.import_image_from_data(buffer.getvalue(), repository=repository, tag=tag)
    return ref


def test_clean_exits_0(clean_run: CleanRun) -> None:
    assert clean_run.proc.returncode == 0, clean_run.proc.stderr


def test_clean_removes_labelled_container(clean_run: CleanRun, client: docker.DockerClient) -> None:
    assert not _exists(client.containers.get, clean_run.labelled_container)


def test_clean_removes_labelled_volume(clean_run: CleanRun, client: docker.DockerClient) -> None:
    assert not _exists(client.volumes.get, clean_run.labelled_volume)


def test_clean_keeps_unlabelled_container(clean_run: CleanRun, client: docker.DockerClient) -> None:
    assert _exists(client.containers.get, clean_run.other_container)


def test_clean_keeps_unlabelled_volume(clean_run: CleanRun, client: docker.DockerClient) -> None:
    assert _exists(client.volumes.get, clean_run.other_volume)


def test_clean_reports_what_it_removed(clean_run: CleanRun) -> None:
    assert "removed" in clean_run.proc.stdout and "volume(s)" in clean_run.proc.stdout, (
        clean_run.proc.stdout
    )


def test_clean_keeps_user_container_run_from_a_render_sim_image(
    clean_run: CleanRun, client: docker.DockerClient
) -> None:
    assert _exists(client.containers.get, clean_run.debug_container)
