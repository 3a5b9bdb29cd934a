"""Render's venv comes with the build image: file for file what `python -m venv` makes there.

The image holds /opt/render/project/src/.venv, made at image build time by the command render-sim
would otherwise run in every build (ensurepip takes seconds); Docker copies it into each build's
fresh /opt/render volume. These tests compare it with a venv made in the container by that
command, and check that a container without it still gets one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.build import simulation
from simulator.build.container import BuildContainer
from simulator.plan.build_plan import make_plan
from simulator.plan.models import VENV, Options

pytestmark = pytest.mark.docker

PYTHON = "3.14.3"
INTERPRETER = f"/opt/render/project/python/Python-{PYTHON}/bin/python3.14"

# Every entry under a directory: kind, mode, and a hash of the bytes or the link target. A .pyc
# embeds its source's mtime and size (bytes 8-16), which differ between any two venvs: left out.
MANIFEST = """
import hashlib, json, os, stat, sys
out = {}
for folder, dirs, files in os.walk(sys.argv[1]):
    for name in dirs + files:
        path = os.path.join(folder, name)
        info = os.lstat(path)
        rel = os.path.relpath(path, sys.argv[1])
        if stat.S_ISLNK(info.st_mode):
            out[rel] = ["link", info.st_mode, os.readlink(path)]
        elif stat.S_ISDIR(info.st_mode):
            out[rel] = ["dir", info.st_mode]
        else:
            data = open(path, "rb").read()
            if path.endswith(".pyc"):
                data = data[:8] + data[16:]
            out[rel] = ["file", info.st_mode, hashlib.sha256(data).hexdigest()]
print(json.dumps(out))
"""


def _manifest(box: BuildContainer) -> dict[str, Any]:
    code, output = box.call([INTERPRETER, "-c", MANIFEST, VENV])
    assert code == 0, output
    return json.loads(output)


def test_the_images_venv_is_what_python_m_venv_makes(
    client: docker.DockerClient, built_images: dict[str, Any]
) -> None:
    with BuildContainer(client, built_images["3.14"].tag) as box:
        prebuilt = _manifest(box)
        code, output = box.call(["rm", "-rf", VENV])
        assert code == 0, output
        code, output = box.call([INTERPRETER, "-m", "venv", VENV], env={"HOME": "/opt/render"})
        assert code == 0, output
        fresh = _manifest(box)
    assert "bin/pip" in prebuilt and "pyvenv.cfg" in prebuilt
    differing = sorted(k for k in prebuilt.keys() | fresh.keys() if prebuilt.get(k) != fresh.get(k))
    assert not differing, differing[:20]


def test_a_container_without_the_venv_gets_one(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    tmp_path: Path,
) -> None:
    repo = repo_writer(tmp_path / "repo", None)
    service = make_plan(repo, Options(python=PYTHON, build_command="true")).services[0]
    with BuildContainer(client, built_images["3.14"].tag) as box:
        assert box.call(["rm", "-rf", VENV])[0] == 0
        assert simulation._create_venv(box, service) is None
        code, output = box.call([f"{VENV}/bin/python", "-m", "pip", "--version"])
    assert code == 0 and f"{VENV}/lib/python3.14/site-packages/pip" in output, output
