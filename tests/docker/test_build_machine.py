"""Inside the build container: what a build command on Render's default Python 3.14.3 finds.

One simulation (the real pipeline: `make_plan` -> `simulate_service` on the 3.14 image) runs a
script that probes many facts and prints each in its own section; every test below reads one
section. The probes include a real cargo run against a tiny sparse registry served from inside
the container, so the read-only `/usr/local/cargo` error comes from cargo itself.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import tarfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.build.buildlog import MASK
from simulator.build.simulation import BuildResult, simulate_service
from simulator.plan.build_plan import make_plan
from simulator.plan.models import Options, ServicePlan

pytestmark = pytest.mark.docker

RENDER_DEFAULT_PYTHON = "3.14.3"
SERVICE = "facts-web"
SECRET = "s3cr3t-tok-7f1c9a"
MARKER = "marker file from the user's repo"
VENV = "/opt/render/project/src/.venv"
CRATE, CRATE_VERSION = "rsimdemo", "0.1.0"
PORT = 8731
READ_ONLY = "Read-only file system"


# -- the tiny sparse registry ------------------------------------------------------------------


def crate_archive() -> bytes:
    """A real `.crate`: a gzip'd tar of NAME-VERSION/Cargo.toml and src/lib.rs."""
    members = {
        "Cargo.toml": textwrap.dedent(
            f"""\
            [package]
            name = "{CRATE}"
            version = "{CRATE_VERSION}"
            edition = "2021"
            """
        ),
        "src/lib.rs": "pub fn answer() -> u32 { 42 }\n",
    }
    buffer = io.BytesIO()
    with (
        gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0) as gz,
        tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{CRATE}-{CRATE_VERSION}/{name}")
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def sparse_index_path(name: str) -> str:
    """Where a sparse index keeps a crate of 4+ characters: ab/cd/abcdef."""
    assert len(name) >= 4
    return f"{name[:2]}/{name[2:4]}/{name}"


def registry_files() -> dict[str, str | bytes]:
    """The registry (served over HTTP) and a cargo project that depends on its one crate."""
    crate = crate_archive()
    entry = {
        "name": CRATE,
        "vers": CRATE_VERSION,
        "deps": [],
        "cksum": hashlib.sha256(crate).hexdigest(),
        "features": {},
        "yanked": False,
    }
    dl = f"http://127.0.0.1:{PORT}/crates/{{crate}}/{{crate}}-{{version}}.crate"
    return {
        "registry/config.json": json.dumps({"dl": dl}),
        f"registry/{sparse_index_path(CRATE)}": json.dumps(entry) + "\n",
        f"registry/crates/{CRATE}/{CRATE}-{CRATE_VERSION}.crate": crate,
        "rustproj/Cargo.toml": textwrap.dedent(
            f"""\
            [package]
            name = "rsimapp"
            version = "0.1.0"
            edition = "2021"

            [dependencies]
            {CRATE} = "{CRATE_VERSION}"
            """
        ),
        "rustproj/src/lib.rs": "pub use rsimdemo::answer;\n",
        "rustproj/.cargo/config.toml": textwrap.dedent(
            f"""\
            [source.crates-io]
            replace-with = "local"

            [source.local]
            registry = "sparse+http://127.0.0.1:{PORT}/"
            """
        ),
    }


# -- the probe script ---------------------------------------------------------------------------

# (section, shell command); each command runs in a subshell from the repo's checkout.
PROBES: list[tuple[str, str]] = [
    ("python-version", "python --version"),
    ("python-base-prefix", "python -c 'import sys; print(sys.base_prefix)'"),
    ("python-path", "command -v python"),
    ("pip-path", "command -v pip"),
    ("pip-version", "pip --version"),
    ("cargo-path", "command -v cargo"),
    ("cargo-version", "cargo --version"),
    ("gcc-hello", "gcc -o /tmp/hello hello.c && /tmp/hello"),
    ("tmp-write", "echo tmp-is-writable > /tmp/probe.txt && cat /tmp/probe.txt"),
    (
        "tmp-exec",
        "printf '#!/bin/sh\\necho ran-from-tmp\\n' > /tmp/tool.sh && chmod +x /tmp/tool.sh "
        "&& /tmp/tool.sh",
    ),
    ("repo-file", "cat /opt/render/project/src/marker.txt"),
    (
        "repo-write",
        "echo written-by-build >> /opt/render/project/src/marker.txt "
        "&& tail -n 1 /opt/render/project/src/marker.txt",
    ),
    ("write-usr-local-lib", "touch /usr/local/lib/render-sim-probe"),
    ("write-etc", "touch /etc/render-sim-probe"),
    ("apt-get-update", "apt-get update"),
    ("env", "env"),
    ("secret", 'echo "token=$API_TOKEN"'),
    (
        "registry-up",
        "rm -rf /tmp/registry && cp -r registry /tmp/registry && "
        f"(cd /tmp/registry && exec python3 -m http.server --bind 127.0.0.1 {PORT}) "
        ">/tmp/registry.log 2>&1 & echo $! > /tmp/registry.pid; "
        "for _ in $(seq 100); do "
        f"python3 -c 'import urllib.request as u; u.urlopen(\"http://127.0.0.1:{PORT}/config.json\")' "
        "2>/dev/null && echo registry-up && exit 0; sleep 0.1; done; cat /tmp/registry.log; exit 1",
    ),
    ("cargo-read-only", "cd rustproj && cargo fetch"),
    (
        "cargo-workaround",
        "cd rustproj && CARGO_HOME=/opt/render/project/.cargo cargo fetch "
        f"&& ls /opt/render/project/.cargo/registry/cache/*/{CRATE}-{CRATE_VERSION}.crate",
    ),
    ("registry-down", 'kill "$(cat /tmp/registry.pid)" && echo registry-down'),
]


def probe_script() -> str:
    """A bash script printing one section per probe: `<<< NAME`, its output, `>>> NAME exit=N`."""
    lines = ["# One section per fact: <<< NAME, the probe's output, >>> NAME exit=CODE"]
    for name, command in PROBES:
        lines += [f'echo "<<< {name}"', f"( {command} ) 2>&1", f'echo ">>> {name} exit=$?"']
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Section:
    output: str
    exit_code: int

    @property
    def first_line(self) -> str:
        return self.output.splitlines()[0] if self.output else ""


def parse_sections(text: str) -> dict[str, Section]:
    sections: dict[str, Section] = {}
    pattern = re.compile(r"^<<< (\S+)\n(.*?)^>>> \1 exit=(\d+)$", re.S | re.M)
    for match in pattern.finditer(text):
        sections[match.group(1)] = Section(match.group(2).rstrip("\n"), int(match.group(3)))
    return sections


@dataclass(frozen=True)
class FactsRun:
    service: ServicePlan
    result: BuildResult
    sections: dict[str, Section]
    env: dict[str, str]

    def section(self, name: str) -> Section:
        assert name in self.sections, (
            f"section {name!r} missing from the build log:\n{self.result.log_text[-4000:]}"
        )
        return self.sections[name]


@pytest.fixture(scope="module")
def facts(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    tmp_path_factory: pytest.TempPathFactory,
) -> FactsRun:
    root = tmp_path_factory.mktemp("facts")
    repo = repo_writer(
        root / "repo",
        "bash probe.sh",
        service=SERVICE,
        env_vars="""\
        - key: API_TOKEN
          sync: false
        """,
        files={
            "probe.sh": probe_script(),
            "marker.txt": MARKER + "\n",
            "hello.c": '#include <stdio.h>\nint main(void) { puts("hello from gcc"); return 0; }\n',
            **registry_files(),
        },
    )
    env_file = root / "secrets.env"
    env_file.write_text(f"API_TOKEN={SECRET}\n", encoding="utf-8")
    plan = make_plan(repo, Options(python=RENDER_DEFAULT_PYTHON, env_file=env_file), client=client)
    service = plan.services[0]
    image = built_images["3.14"]
    result = simulate_service(
        client, plan, service, image=image.tag, base=image.base, echo=lambda *_: None
    )
    sections = parse_sections(result.log_text)
    env_section = sections.get("env")
    env = dict(
        line.split("=", 1)
        for line in (env_section.output if env_section else "").splitlines()
        if "=" in line
    )
    return FactsRun(service, result, sections, env)


def test_probe_build_succeeds(facts: FactsRun) -> None:
    assert facts.result.outcome == "succeeded", facts.result.log_text[-4000:]


# -- cargo and apt: the read-only system --------------------------------------------------------


def test_local_sparse_registry_serves_from_tmp(facts: FactsRun) -> None:
    section = facts.section("registry-up")
    assert section.exit_code == 0 and "registry-up" in section.output, section.output


def test_cargo_fails_read_only_under_usr_local_cargo(facts: FactsRun) -> None:
    section = facts.section("cargo-read-only")
    assert section.exit_code != 0, section.output
    assert "failed to create directory" in section.output, section.output
    assert "/usr/local/cargo/registry/" in section.output, section.output
    assert "Read-only file system (os error 30)" in section.output, section.output


def test_cargo_downloads_the_crate_with_cargo_home_under_the_project(facts: FactsRun) -> None:
    section = facts.section("cargo-workaround")
    assert section.exit_code == 0, section.output
    assert f"{CRATE}-{CRATE_VERSION}.crate" in section.output, section.output


def test_apt_get_update_fails_read_only(facts: FactsRun) -> None:
    section = facts.section("apt-get-update")
    assert section.exit_code != 0, section.output
    assert READ_ONLY in section.output, section.output
    assert "/var/lib/apt/lists/partial" in section.output, section.output


# -- Python, pip, cargo, gcc -------------------------------------------------------------------


def test_python_version_is_the_images_python(facts: FactsRun) -> None:
    assert re.fullmatch(r"3\.14\.\d+", facts.result.image_python), facts.result.image_python
    assert facts.service.image_python == facts.result.image_python
    assert facts.section("python-version").first_line == f"Python {facts.result.image_python}"


def test_python_base_prefix_is_renders_install_path(facts: FactsRun) -> None:
    expected = f"/opt/render/project/python/Python-{RENDER_DEFAULT_PYTHON}"
    assert facts.section("python-base-prefix").first_line == expected


def test_python_is_the_venvs(facts: FactsRun) -> None:
    assert facts.section("python-path").first_line == f"{VENV}/bin/python"


def test_pip_is_the_venvs(facts: FactsRun) -> None:
    assert facts.section("pip-path").first_line == f"{VENV}/bin/pip"
    assert f"{VENV}/lib/python3.14/site-packages/pip" in facts.section("pip-version").output


def test_cargo_is_at_usr_local_cargo_bin(facts: FactsRun) -> None:
    assert facts.section("cargo-path").first_line == "/usr/local/cargo/bin/cargo"


def test_cargo_is_at_least_1_85(facts: FactsRun) -> None:
    output = facts.section("cargo-version").first_line
    match = re.match(r"cargo (\d+)\.(\d+)\.\d+", output)
    assert match, output
    assert (int(match.group(1)), int(match.group(2))) >= (1, 85), output


def test_gcc_compiles_and_runs_hello_world(facts: FactsRun) -> None:
    section = facts.section("gcc-hello")
    assert section.exit_code == 0 and section.output == "hello from gcc", section.output


# -- environment --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("RENDER", "true"),
        ("CI", "true"),
        ("IS_PULL_REQUEST", "false"),
        ("RENDER_SERVICE_NAME", SERVICE),
        ("RENDER_SERVICE_TYPE", "web"),
        ("RENDER_GIT_COMMIT", r"[0-9a-f]{40}"),
        ("RENDER_GIT_BRANCH", r"[\w./-]+"),
        ("VENV_ROOT", VENV),
        ("CARGO_HOME", "/usr/local/cargo"),
        ("HOME", "/opt/render"),
    ],
)
def test_render_sets_env_var(facts: FactsRun, name: str, expected: str) -> None:
    assert name in facts.env, sorted(facts.env)
    assert re.fullmatch(expected, facts.env[name]), f"{name}={facts.env[name]}"


def test_build_sees_only_the_planned_environment(facts: FactsRun) -> None:
    shell_own = {"PWD", "SHLVL", "_", "OLDPWD"}  # what bash itself exports
    extra = set(facts.env) - set(facts.service.build_env()) - shell_own
    assert not extra, sorted(extra)  # nothing from the image's ENV or Docker's (HOSTNAME)
    assert facts.env["API_TOKEN"] == MASK  # there, and masked in the log


def test_host_pip_find_links_is_not_leaked(facts: FactsRun) -> None:
    assert os.environ.get("PIP_FIND_LINKS"), "the session sets PIP_FIND_LINKS on the host"
    assert "PIP_FIND_LINKS" not in facts.env
    assert os.environ["PIP_FIND_LINKS"] not in facts.result.log_text


def test_no_host_pip_setting_reaches_the_build(facts: FactsRun) -> None:
    host = {k: v for k, v in os.environ.items() if k.startswith("PIP_")}
    assert host, "the session sets at least PIP_FIND_LINKS on the host"
    leaked = {k: v for k, v in host.items() if facts.env.get(k) == v}
    assert not leaked, leaked


# -- filesystem ---------------------------------------------------------------------------------


def test_repo_files_are_checked_out_under_opt_render_project_src(facts: FactsRun) -> None:
    assert facts.section("repo-file").output == MARKER


def test_repo_checkout_is_writable(facts: FactsRun) -> None:
    section = facts.section("repo-write")
    assert section.exit_code == 0 and section.output == "written-by-build", section.output


def test_tmp_is_writable(facts: FactsRun) -> None:
    section = facts.section("tmp-write")
    assert section.exit_code == 0 and section.output == "tmp-is-writable", section.output


def test_executables_run_from_tmp(facts: FactsRun) -> None:
    section = facts.section("tmp-exec")
    assert section.exit_code == 0 and section.output == "ran-from-tmp", section.output


@pytest.mark.parametrize("section_name", ["write-usr-local-lib", "write-etc"])
def test_system_directories_are_read_only(facts: FactsRun, section_name: str) -> None:
    section = facts.section(section_name)
    assert section.exit_code != 0, section.output
    assert READ_ONLY in section.output, section.output


# -- secrets ------------------------------------------------------------------------------------


def test_secret_is_masked_in_result_log_text(facts: FactsRun) -> None:
    assert facts.section("secret").output == "token=••••••"
    assert SECRET not in facts.result.log_text


def test_secret_is_masked_in_saved_log(facts: FactsRun) -> None:
    saved = Path(facts.result.log_path).read_text(encoding="utf-8")
    assert "token=••••••" in saved
    assert SECRET not in saved
