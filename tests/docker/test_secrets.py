"""Secret values never leave a simulation unmasked, whatever the build does with them.

Secrets are the values of `--env-file`, of `sync: false` variables (given through the env file or
a scenario's `env`) and of `generateValue: true` variables (a fresh random value per run, which
the test cannot know: the build prints it between markers, and its length, instead). The build
prints them back in every way a build does: on a line of its own, inside an error on stderr, in
a URL of a failing pip-like message (which the diagnosis quotes as evidence), written in two
pieces a second apart with a line on stderr in between (stdout and stderr must be split into
lines apart, or the pieces land on two lines), a multi-line value (a PEM-like key) line by line,
in a Python traceback; and encoded, as a build prints a token inside JSON, a URL, a Basic auth
header or a hex dump, or wrapped onto a second line.

Every output is checked: the live log (stdout), the saved log file, the HTML report beside it,
`--json` (plan, result, last error lines, diagnosis evidence) and the JUnit XML of
`render-sim scenarios run --junit`.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import textwrap
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest

from simulator.build.buildlog import MASK

pytestmark = pytest.mark.docker

PYTHON = "3.13.4"
PROMPTED = "prompted-Secret-4711"  # a `sync: false` variable's value
FROM_FILE = "fileSecretValue-0815"  # only in the env file
MULTI_LINES = ("-----BEGIN TEST KEY-----", "line-one-secret-abc", "-----END TEST KEY-----")
SHORT = "ab"  # too short to mask: named in a note instead
PLAIN = "plain-visible-value"  # a plain `value:`: not secret
ENCODED = 'enc"oded\\tok/en+é-4711'  # JSON and URLs escape its `"`, `\\`, `/`, `+` and `é`
BASIC = base64.b64encode(f"deploy:{ENCODED}".encode()).decode()  # a Basic auth header's value
ENCODED_FORMS = (
    json.dumps(ENCODED)[1:-1],
    urllib.parse.quote(ENCODED, safe=""),
    base64.b64encode(ENCODED.encode()).decode(),
    BASIC[10:-2],  # the characters that carry only the secret's bits
    ENCODED.encode().hex(),
    ENCODED[8:],  # the second line of the wrapped value
)
SECRETS = (PROMPTED, FROM_FILE, "retValue-0815", *MULTI_LINES, ENCODED, *ENCODED_FORMS)
# "retValue-0815": FROM_FILE's tail

ENV_VARS = """\
- key: GENERATED
  generateValue: true
- key: PROMPTED
  sync: false
- key: PLAIN
  value: plain-visible-value
"""

BUILD_SH = r"""
echo "gen=<$GENERATED> genlen=${#GENERATED}"
echo "prompted=<$PROMPTED>"
echo "file=<$FROM_FILE>"
printf 'multi=<%s>\n' "$MULTI"
printf 'split=<%s' "${FROM_FILE:0:7}"; echo "stderr meanwhile" >&2; sleep 1; printf '%s>\n' "${FROM_FILE:7}"
echo "short=<$SHORT> plain=<$PLAIN>"
echo "error: could not authenticate with token $FROM_FILE and $GENERATED" >&2
echo "ERROR: Could not find a version that satisfies the requirement private-pkg==1.0 (from https://deploy:$FROM_FILE@pkgs.example.invalid/simple/private-pkg/)"
echo "ERROR: No matching distribution found for private-pkg==1.0"
python - <<'PY'
import base64, json, os, urllib.parse
value = os.environ["ENCODED"]
print("json=" + json.dumps({"token": value}))
print("url=https://deploy:" + urllib.parse.quote(value, safe="") + "@pkgs.example.invalid/")
print("b64=" + base64.b64encode(value.encode()).decode())
print("basic=" + base64.b64encode(("deploy:" + value).encode()).decode())
print("hex=" + value.encode().hex())
print("wrapped=" + value[:8])
print(value[8:] + "=end")
PY
python -c "import os; raise SystemExit('Traceback: bad key ' + os.environ['PROMPTED'])"
"""

ENV_FILE = f"""\
PROMPTED={PROMPTED}
FROM_FILE={FROM_FILE}
MULTI="{chr(10).join(MULTI_LINES)}"
SHORT={SHORT}
ENCODED='{ENCODED.replace(chr(92), chr(92) * 2)}'
"""


def assert_no_secret(text: str, where: str) -> None:
    leaked = [secret for secret in SECRETS if secret in text]
    assert not leaked, f"{where} shows {leaked}"


@dataclass(frozen=True)
class Runs:
    text: subprocess.CompletedProcess[str]
    json: subprocess.CompletedProcess[str]
    events: list[dict[str, Any]]  # the engine's container events while they ran

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.json.stdout)
        return data

    @property
    def result(self) -> dict[str, Any]:
        result: dict[str, Any] = self.data["results"][0]
        return result


@pytest.fixture(scope="module")
def runs(
    client: docker.DockerClient,
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Runs:
    """One failing build that prints every secret, run for people and with --json."""
    root = tmp_path_factory.mktemp("secrets")
    repo = repo_writer(
        root / "repo", "bash build.sh", env_vars=ENV_VARS, files={"build.sh": BUILD_SH}
    )
    env_file = root / "secrets.env"
    env_file.write_text(ENV_FILE, encoding="utf-8")
    args = ("simulate", str(repo), "--env-file", str(env_file), "--python", PYTHON)
    args += ("--no-pull", "--no-cache", "--offline")
    since = int(time.time()) - 1
    text, as_json = render_sim(*args), render_sim(*args, "--json")
    until = int(time.time()) + 1
    events = list(
        client.events(since=since, until=until, decode=True, filters={"type": "container"})
    )
    return Runs(text, as_json, events)


def test_the_build_failed_as_written(runs: Runs) -> None:
    assert runs.text.returncode == 1, runs.text.stdout[-3000:] + runs.text.stderr[-3000:]
    assert runs.json.returncode == 1, runs.json.stderr[-3000:]
    assert runs.result["exit_code"] == 1


def test_live_log_shows_no_secret(runs: Runs) -> None:
    assert_no_secret(runs.text.stdout, "stdout")
    assert_no_secret(runs.text.stderr, "stderr")
    assert_no_secret(runs.json.stderr, "the live log of the --json run (stderr)")


def test_saved_log_files_show_no_secret(runs: Runs) -> None:
    match = re.search(r"Log\s+(\S+\.log)", runs.text.stdout)
    assert match, runs.text.stdout[-2000:]
    for path in (Path(match.group(1)), Path(runs.result["log_path"])):
        text = path.read_text(encoding="utf-8")
        assert "prompted=<" in text, text[-2000:]  # the build's lines are in it
        assert_no_secret(text, str(path))


def test_html_report_shows_no_secret(runs: Runs) -> None:
    path = Path(runs.result["report"])
    text = path.read_text(encoding="utf-8")
    assert "prompted=&lt;" in text, text[-2000:]  # the build's lines are in it
    assert_no_secret(text, str(path))


def test_docker_events_show_no_secret(runs: Runs) -> None:
    execs = [e for e in runs.events if str(e.get("Action", "")).startswith("exec_create")]
    assert len(execs) >= 2, [e.get("Action") for e in runs.events]  # the two builds' commands
    assert any("bash build.sh" in e["Action"] for e in execs), [e["Action"] for e in execs]
    assert_no_secret(json.dumps(runs.events), "docker events")


def test_json_shows_no_secret_anywhere(runs: Runs) -> None:
    assert_no_secret(runs.json.stdout, "--json")


def test_json_plan_masks_every_secret_variable_and_only_those(runs: Runs) -> None:
    env = runs.data["plan"]["services"][0]["env"]
    secret = {"GENERATED", "PROMPTED", "FROM_FILE", "MULTI", "SHORT", "ENCODED"}
    assert {k: v for k, v in env.items() if k in secret} == dict.fromkeys(secret, MASK)
    assert env["PLAIN"] == PLAIN


def test_last_error_lines_and_diagnosis_evidence_are_masked(runs: Runs) -> None:
    errors = runs.result["last_error_lines"]
    assert f"error: could not authenticate with token {MASK} and {MASK}" in errors, errors
    assert f"Traceback: bad key {MASK}" in errors, errors
    diagnosis = runs.result["diagnosis"]
    assert diagnosis["class"] == "no-matching-distribution", diagnosis["headline"]
    evidence = [e["text"] for e in diagnosis["evidence"]]
    assert any(f"https://deploy:{MASK}@pkgs.example.invalid" in line for line in evidence), evidence


def test_generated_value_exists_and_is_masked(runs: Runs) -> None:
    # Render's generateValue is a base64-encoded 256-bit value: 44 characters.
    assert f"gen=<{MASK}> genlen=44" in runs.text.stdout.splitlines(), runs.text.stdout[-3000:]


def test_value_written_in_two_pieces_is_masked_whole(runs: Runs) -> None:
    lines = runs.text.stdout.splitlines()
    assert f"split=<{MASK}>" in lines and "stderr meanwhile" in lines


def test_each_line_of_a_multi_line_value_is_masked(runs: Runs) -> None:
    lines = runs.text.stdout.splitlines()
    start = lines.index(f"multi=<{MASK}")
    assert lines[start + 1 : start + 3] == [MASK, f"{MASK}>"], lines[start : start + 3]


def test_build_stderr_is_masked(runs: Runs) -> None:
    lines = runs.text.stdout.splitlines()
    assert f"error: could not authenticate with token {MASK} and {MASK}" in lines


def test_secret_printed_encoded_is_masked_in_each_form(runs: Runs) -> None:
    lines = runs.text.stdout.splitlines()
    expected = [
        f'json={{"token": "{MASK}"}}',
        f"url=https://deploy:{MASK}@pkgs.example.invalid/",
        f"b64={MASK}",
        f"hex={MASK}",
        f"wrapped={MASK}",
        f"{MASK}=end",
    ]
    assert [line for line in expected if line not in lines] == [], runs.text.stdout[-3000:]
    basic = next(line for line in lines if line.startswith("basic="))
    assert basic.startswith(f"basic={BASIC[:10]}") and MASK in basic, basic


def test_too_short_secret_is_named_instead_of_masked(runs: Runs) -> None:
    out = runs.text.stdout
    assert "not masked: the value of SHORT is shorter than 3 characters" in out, out[:3000]
    assert f"short=<{SHORT}> plain=<{PLAIN}>" in out.splitlines()


# -- the JUnit report of `render-sim scenarios run` ---------------------------------------------

SCENARIO_YAML = f"""\
description: a build that prints its secrets and fails, against a manifest expecting success
network: none
options:
  python: {PYTHON}
  env: {{PROMPTED: {PROMPTED}}}
expect:
  outcome: succeeded
"""

SCENARIO_BUILD = r"""
echo "gen=<$GENERATED>"
echo "error: token $PROMPTED was rejected" >&2
python -c 'import base64, os; print("b64=" + base64.b64encode(os.environ["PROMPTED"].encode()).decode())'
exit 1
"""


def test_junit_report_of_a_failed_scenario_shows_no_secret(
    built_images: dict[str, Any],
    repo_writer: Callable[..., Path],
    render_sim: Callable[..., subprocess.CompletedProcess[str]],
    tmp_path: Path,
) -> None:
    folder = repo_writer(
        tmp_path / "scenarios" / "prints-secrets",
        "bash build.sh",
        env_vars=ENV_VARS,
        files={"build.sh": SCENARIO_BUILD, "scenario.yaml": textwrap.dedent(SCENARIO_YAML)},
    )
    junit = tmp_path / "junit.xml"
    proc = render_sim(
        "scenarios", "run", "prints-secrets", "--dir", str(folder.parent),
        "--junit", str(junit), "--no-pull", "--offline", "--json",
    )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:] + proc.stderr[-3000:]
    xml = junit.read_text(encoding="utf-8")
    assert "<failure" in xml, xml[-3000:]
    assert f"gen=&lt;{MASK}&gt;" in xml, xml[-3000:]  # the log tail is there, masked
    assert f"error: token {MASK} was rejected" in xml, xml[-3000:]  # and the last error lines
    assert f"b64={MASK}" in xml, xml[-3000:]  # and an encoded form, masked too
    assert PROMPTED not in xml
    assert base64.b64encode(PROMPTED.encode()).decode() not in xml
    assert PROMPTED not in proc.stdout and PROMPTED not in proc.stderr
