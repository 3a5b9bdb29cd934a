"""The markers each installer really prints, as data: pip (pre-20.3, 20.3-24, 25+), uv, Poetry
1.x/2.x, pdm, pipenv/pip-tools, pipx, Docker (BuildKit and classic), CI runners, shells, Render.

Each `Marker` is a bytes regex matched right after a line's indentation; `LINE_MARKERS` are
tried in order (the first that matches names the line), so specific shapes come before general
ones. `ANYWHERE_MARKERS` are found by a literal anywhere in a line (a kill reported at the end
of a progress bar, Poetry's `..., version solving failed.`). Shapes are those of the tools'
own sources and of real logs; none is one log's line.
"""

from __future__ import annotations

import re

from simulator.diagnose.events import Marker, Role

X = rb"(?:\xc3\x97|x)"  # uv's and pip's `×` (uv's ASCII mode prints `x`)
BULLET = rb"(?:-|\xe2\x80\xa2)"  # Poetry's `-` (1.x) and `•` (2.x)
STEPS = (
    rb"(?:Installing build dependencies|Getting requirements to build (?:wheel|editable)"
    rb"|Installing backend dependencies|Preparing (?:editable )?metadata(?: \([^)\n]*\))?)"
)
SHELL = rb"(?:/bin/)?(?:ba|da|z)?sh: (?:line \d+: |\d+: )?"


def _m(name: str, tool: str, role: Role, pattern: bytes, **extra: object) -> Marker:
    return Marker(name, tool, role, pattern, **extra)  # type: ignore[arg-type]


OPEN, STEP, OK, FAIL, SUM, BAR, INFO, KILL = (
    Role.OPEN,
    Role.STEP,
    Role.OK,
    Role.FAIL,
    Role.SUMMARY,
    Role.BARRIER,
    Role.INFO,
    Role.KILL,
)

LINE_MARKERS: tuple[Marker, ...] = (
    # -- Render and render-sim ------------------------------------------------------------------
    _m("render_failed", "render", SUM, rb"==> Build failed"),
    _m("render_ok", "render", BAR, rb"==> Build successful"),
    _m("render_line", "render", INFO, rb"==> "),
    _m("render_sim_note", "render-sim", INFO, rb"\[render-sim\] "),
    _m("render_oom", "render", KILL, rb"Ran out of memory \(used over ", step="memory"),
    _m("render_timeout", "render", KILL, rb"Build timed out after ", step="time"),
    _m("render_idle", "render-sim", KILL, rb"Stopped: no output for ", step="time"),
    _m("render_exited", "render", SUM, rb"Exited with status \d+ while building"),
    # -- pip --------------------------------------------------------------------------------------
    _m("pip_collect", "pip", OPEN, rb"(?:Collecting|Obtaining) \S", kind="collect", owned=True),
    # pip: "Processing ./pkg" (not dpkg's "Processing triggers for libc-bin ...")
    _m(
        "pip_processing",
        "pip",
        OPEN,
        rb"Processing (?!triggers for )\S",
        kind="collect",
        owned=True,
    ),
    _m("pip_metadata", "pip", INFO, rb"(?:Downloading|Using cached) \S+\.metadata\b"),
    _m(
        "pip_download",
        "pip",
        STEP,
        rb"(?:Downloading|Using cached|Downloaded) \S",
        kind="download",
        step="download",
        owned=True,
    ),
    _m(
        "pip_step_error", "pip", FAIL, STEPS + rb"(?::? finished with status 'error'| \.\.\. error)"
    ),
    _m("pip_step", "pip", STEP, STEPS),
    _m(
        "pip_build_ok",
        "pip",
        OK,
        rb"(?:Building (?:wheel|editable) for \S+ \([^)\n]*\)(?:: finished with status 'done'"
        rb"| \.\.\. done)|Created wheel for |Running setup\.py install for \S+ \.\.\. done)",
    ),
    _m(
        "pip_build_error",
        "pip",
        FAIL,
        rb"(?:Building (?:wheel|editable) for|Running setup\.py (?:install|bdist_wheel|develop)"
        rb" for) \S+(?: \([^)\n]*\))?(?::? finished with status 'error'| \.\.\. error)",
        kind="build",
        step="wheel",
        owned=True,
    ),
    _m(
        "pip_build",
        "pip",
        OPEN,
        rb"(?:Building (?:wheel|editable) for|Running setup\.py (?:install|bdist_wheel|develop)"
        rb" for) \S",
        kind="build",
        step="wheel",
        owned=True,
    ),
    _m("pip_setup_clean", "pip", INFO, rb"Running setup\.py clean for "),
    _m("pip_build_phase", "pip", OPEN, rb"Building wheels for collected packages:", kind="phase"),
    _m("pip_box", "pip", FAIL, X + rb" [^\n]*did not run successfully", kind="build", owned=True),
    _m("pip_subprocess", "pip", FAIL, rb"error: subprocess-exited-with-error"),
    _m("pip_errored_out", "pip", FAIL, rb"ERROR: Command errored out with exit status"),
    _m("pip_complete_output", "pip", FAIL, rb"Complete output from command "),
    _m(
        "pip_failed_command",
        "pip",
        FAIL,
        rb"Command \"[^\"\n]*\" failed with error code \d+",
        kind="build",
        owned=True,
    ),
    _m(
        "pip_failed_building",
        "pip",
        FAIL,
        rb"(?:ERROR: )?Failed building wheel for \S",
        kind="build",
        step="wheel",
        owned=True,
    ),
    _m(
        "pip_failed_when",
        "pip",
        FAIL,
        rb"(?:ERROR: )?Failed to build '[^'\n]+' when ",
        kind="build",
        owned=True,
    ),
    _m(
        "pip_summary_owned",
        "pip",
        SUM,
        rb"(?:ERROR: )*(?:Failed to build (?!installable)\S|Could not build wheels for \S"
        rb"|Failed to build installable wheels for some pyproject\.toml based projects \()",
        owned=True,
    ),
    _m(
        "pip_summary",
        "pip",
        SUM,
        rb"(?:error: (?:metadata-generation-failed|failed-wheel-build-for-install)"
        + rb"|"
        + X
        + rb" (?:Encountered error while generating package metadata|Failed to build installable)"
        rb"|note: This (?:error originates from a subprocess|is an issue with the package)"
        rb"|ERROR: Failed to build installable wheels)",
    ),
    _m(
        "pip_arrow_names",
        "pip",
        SUM,
        rb"(?:\xe2\x95\xb0\xe2\x94\x80> |\xe2\x94\x94\xe2\x94\x80 |`-> )"
        rb"[A-Za-z0-9][\w.-]*(?:, [A-Za-z0-9][\w.-]*)*[ \t]*(?=\n)",
        owned=True,
    ),
    _m(
        "pip_no_match",
        "pip",
        FAIL,
        rb"(?:ERROR: )?(?:Could not find a version that satisfies the requirement"
        rb"|No matching distribution found for) \S",
        kind="resolve",
        owned=True,
    ),
    _m(
        "pip_conflict",
        "pip",
        FAIL,
        rb"(?:ERROR: )?Cannot install [^\n]* because these package versions have conflicting",
        kind="resolve",
    ),
    _m("pip_conflict_cause", "pip", FAIL, rb"The conflict is caused by:", kind="resolve"),
    _m("pip_impossible", "pip", FAIL, rb"(?:ERROR: )?ResolutionImpossible", kind="resolve"),
    _m(
        "pip_ignored",
        "pip",
        OPEN,
        rb"(?:ERROR: )?Ignored the following (?:yanked )?versions",
        kind="resolve",
    ),
    _m(
        "pip_invalid_metadata",
        "pip",
        OPEN,
        rb"WARNING: Ignoring version \S+ of \S+ since it has invalid metadata",
        kind="resolve",
        owned=True,
    ),
    _m(
        "pip_requirements",
        "pip",
        FAIL,
        rb"(?:ERROR: )?Could not open requirements file",
        kind="requirements",
    ),
    _m(
        "pip_oserror",
        "pip",
        FAIL,
        rb"(?:ERROR: )?Could not install packages due to an (?:OS|Environment)Error",
        kind="install",
    ),
    _m(
        "pip_externally", "pip", FAIL, rb"error: externally-managed-environment", kind="environment"
    ),
    _m(
        "pip_externally_box",
        "pip",
        FAIL,
        X + rb" This environment is externally managed",
        kind="environment",
    ),
    _m("pip_exception", "pip", FAIL, rb"ERROR: Exception:"),
    _m("pip_install_phase", "pip", OPEN, rb"Installing collected packages: ", kind="install"),
    _m("pip_success", "pip", BAR, rb"Successfully installed ", top_level=True),
    _m("pip_retry", "pip", INFO, rb"WARNING: Retrying \(Retry\("),
    _m("pip_notice", "pip", INFO, rb"\[notice\] "),
    # -- pip-tools, pipenv, pipx, pdm ---------------------------------------------------------
    _m(
        "piptools_incompatible",
        "pip-tools",
        FAIL,
        rb"There are incompatible versions in the resolved dependencies",
        kind="resolve",
    ),
    _m(
        "piptools_no_match",
        "pip-tools",
        FAIL,
        rb"(?:ERROR: )?Could not find a version that matches ",
        kind="resolve",
    ),
    _m(
        "pipenv_lock_stale",
        "pipenv",
        FAIL,
        rb"Your Pipfile\.lock \(\w+\) is out of date",
        kind="lock",
    ),
    _m("pipenv_abort", "pipenv", SUM, rb"ERROR:+ Aborting deploy"),
    _m("pipenv_exception", "pipenv", FAIL, rb"\[pipenv\.exceptions\.\w+\]"),
    _m("pipx_fatal", "pipx", FAIL, rb"Fatal error from pip prevented installation"),
    _m(
        "pipx_failed_packages",
        "pipx",
        SUM,
        rb"pip (?:failed|seemed to fail) to build packages?:",
        owned=True,
    ),
    _m("pdm_impossible", "pdm", FAIL, rb"\[ResolutionImpossible\]", kind="resolve"),
    _m("pdm_error", "pdm", FAIL, rb"\[(?:BuildError|InstallationError|CandidateNotFound)\]"),
    _m(
        "pdm_install_failed",
        "pdm",
        FAIL,
        rb"\xe2\x9c\x96 Install \S+ \S+ failed",
        kind="install",
        owned=True,
    ),
    _m("pdm_complete", "pdm", BAR, rb"\xf0\x9f\x8e\x89 All complete!"),
    # -- Poetry -----------------------------------------------------------------------------------
    _m(
        "poetry_op_failed",
        "poetry",
        FAIL,
        BULLET + rb" (?:Installing|Updating|Downgrading) \S+ \([^)\n]*\): Failed",
        kind="install",
        owned=True,
    ),
    _m(
        "poetry_op",
        "poetry",
        OPEN,
        BULLET + rb" (?:Installing|Updating|Downgrading|Removing) \S+ \(",
        kind="install",
        owned=True,
    ),
    _m(
        "poetry_error",
        "poetry",
        FAIL,
        rb"(?:ChefBuildError|ChefInstallError|CalledProcessError|SolverProblemError"
        rb"|PEP517 build of a dependency failed|Backend subprocess exited when trying to invoke)",
    ),
    _m(
        "poetry_note",
        "poetry",
        SUM,
        rb"Note: This error originates from the build backend",
        owned=True,
    ),
    _m(
        "poetry_candidates",
        "poetry",
        FAIL,
        rb"Unable to find installation candidates for \S",
        kind="install",
        owned=True,
    ),
    _m("poetry_because", "poetry", OPEN, rb"(?:So, )?[Bb]ecause ", kind="resolve"),
    _m(
        "poetry_python_range",
        "poetry",
        OPEN,
        rb"The current project's supported Python range",
        kind="resolve",
    ),
    _m(
        "poetry_lock_stale",
        "poetry",
        FAIL,
        rb"pyproject\.toml changed significantly since poetry\.lock",
        kind="lock",
    ),
    _m(
        "poetry_lock_version",
        "poetry",
        FAIL,
        rb"The lock ?file is not compatible with the current version of Poetry",
        kind="lock",
    ),
    _m("poetry_project", "poetry", BAR, rb"Installing the current project:"),
    _m("poetry_runtime_error", "poetry", INFO, rb"RuntimeError\s*(?=\n)"),
    # -- uv ---------------------------------------------------------------------------------------
    _m("uv_chain", "uv", FAIL, X + rb" (?=[A-Z])", owned=True),
    _m("uv_error", "uv", FAIL, rb"error: (?=[A-Z`])", owned=True),
    _m(
        "uv_caused",
        "uv",
        FAIL,
        rb"Caused by: Failed to (?:fetch wheel|build|download and build|download|install): ",
        owned=True,
    ),
    _m(
        "uv_lock_stale",
        "uv",
        FAIL,
        rb"(?:error: )?The lockfile at `[^`\n]+` needs to be updated",
        kind="lock",
    ),
    _m(
        "uv_included",
        "uv",
        SUM,
        rb"help: `[^`\n]+` \(v[^)\n]+\) was included because",
        owned=True,
    ),
    _m("uv_installed", "uv", BAR, rb"Installed \d+ packages? in ", top_level=True),
    _m(
        "uv_progress",
        "uv",
        INFO,
        rb"(?:Resolved|Prepared|Audited|Uninstalled|Built) \d+ packages? in ",
    ),
    # -- shells, Docker, CI -----------------------------------------------------------------------
    _m(
        "shell_not_found",
        "shell",
        FAIL,
        SHELL + rb"[^\n:]+: (?:command )?not found",
        kind="command",
    ),
    _m("shell_denied", "shell", FAIL, SHELL + rb"[^\n:]+: Permission denied", kind="command"),
    _m(
        "script_not_found",
        "shell",
        FAIL,
        rb"\S+: line \d+: [^\n:]+: command not found",
        kind="command",
    ),
    _m("traceback", "python", FAIL, rb"Traceback \(most recent call last\):", top_level=True),
    _m("buildkit_step", "docker", OPEN, rb"\[[^\]\n]*\d+/\d+\] RUN ", kind="command"),
    _m("docker_step", "docker", OPEN, rb"Step \d+/\d+ : RUN ", kind="command"),
    _m("buildkit_context", "docker", SUM, rb"> \[[^\]\n]*\] RUN "),
    _m(
        "docker_failed",
        "docker",
        SUM,
        rb"(?:ERROR: |Error: )?(?:failed to solve|process \"[^\n]*\" did not complete successfully"
        rb"|executor failed running|buildx failed with)"
        rb"|The command '[^\n]*' returned a non-zero code|ERROR: Service '[^'\n]*' failed to build",
    ),
    _m("ci_run", "ci", OPEN, rb"Run (?=\S)", kind="command", top_level=True),
    _m("ci_exit", "ci", SUM, rb"(?:Error: )?Process completed with exit code \d+"),
    _m("make_error", "make", SUM, rb"make(?:\[\d+\])?: \*\*\* "),
    _m(
        "prompt",
        "shell",
        OPEN,
        rb"(?:\([\w.-]+\) )?(?:\$|[\w.@:~/\\-]+[$#%>]|PS [^\n>]*>|\xe2\x9e\x9c +\S+)[ \t]+"
        rb"(?:sudo )?(?:pip3?|python3?|uv|poetry|pipx|pdm|pipenv|rye|docker(?:-compose)?|make"
        rb"|conda|\./\S+\.sh|bash)\b",
        kind="command",
    ),
    _m("error_line", "tool", FAIL, rb"(?:ERROR|Error|FATAL|error): (?=\S)", top_level=True),
)

#: Found by a literal anywhere in a line: (marker, needle, confirming regex on the decoded line).
ANYWHERE_MARKERS: tuple[tuple[Marker, bytes, re.Pattern[str]], ...] = (
    (
        _m("killed", "kernel", KILL, rb"", step="memory"),
        b"Killed",
        re.compile(
            r"(?:^|\s|B)Killed\s*$|internal compiler error: Killed|Killed signal terminated"
        ),
    ),
    (
        _m("exit_137", "shell", KILL, rb"", step="memory"),
        b" 137",
        re.compile(r"(?:[Ee]xit code|Error code|exit status|non-zero code|Error)[:=]? 137\b"),
    ),
    (
        _m("version_solving", "poetry", FAIL, rb"", kind="resolve"),
        b"version solving failed",
        re.compile(r"version solving failed"),
    ),
)
