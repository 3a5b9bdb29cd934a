"""Build-command lint: what a service's build command does not do, or does differently on Render.

Every pip invocation of the build command, and of the shell scripts it runs (`./build.sh`,
`bash scripts/build.sh`, one level deep), is read with pip's own option parser
(`simulator.config.pip_options`), so each item below is what Render's pip really does:

- `--only-binary=all` names a package called "all": every other package still builds from
  source (only `:all:` means every package);
- `--no-compile` only stops `.pyc` files; `--no-cache-dir` only stops pip's download cache:
  neither stops a source build;
- `pip install --upgrade pip` without a version installs whatever pip is newest on each deploy;
- a `-r` file that does not exist where the command runs (the service's root directory), and
  `cd X` when the root directory already is X;
- `CARGO_HOME` / `RUSTUP_HOME` pointed somewhere writable: the Rust source build still happens;
- `docker ...`: there is no Docker in Render's native Python build;
- a `runtime.txt` in the service's root: Render does not read it.

Each `Lint` carries the fix in words and, when render-sim can apply it, as an action.
"""

from __future__ import annotations

import difflib
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from simulator.config.build_command import pip_install_args, shell_commands
from simulator.config.pip_options import PipParserUnavailable, PipUsageError, parse_install
from simulator.config.python_version_warnings import runtime_txt_request
from simulator.config.source import inside_repo
from simulator.diagnose.actions import SetRootDir
from simulator.diagnose.diagnosis import BuildCommand, FixAction, SetEnv

ERROR = "error"  # the build fails on Render because of it
WARNING = "warning"  # the build does not do what the command seems to say
INFO = "info"  # harmless, but often added for a reason it does not serve

CARGO_VARIABLES = ("CARGO_HOME", "RUSTUP_HOME")
DOCKER_TOOLS = ("docker", "docker-compose", "podman", "buildah")
_SCRIPT_RUNNERS = ("sh", "bash", "dash")


@dataclass(frozen=True)
class Lint:
    """One finding: its code, how serious, where, what it means, and the fix."""

    code: str
    severity: str
    where: str  # "build command", "build.sh:4", "runtime.txt"
    message: str
    fix: str
    action: FixAction | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity,
            "where": self.where,
            "message": self.message,
            "fix": self.fix,
            "action": self.action.to_dict() if self.action else None,
        }


@dataclass
class LintInput:
    """What the lint reads of a planned service."""

    repo: Path
    root_dir: str  # "" for the repo root
    build_command: str
    env: dict[str, str] = field(default_factory=dict)
    files: Sequence[str] = ()  # the repo's (git-tracked) files, repo-relative
    python: str = ""  # the version Render would use
    python_source: str = ""
    newest_pip: str | None = None  # for the pin the fix suggests

    @property
    def root(self) -> Path:
        return self.repo / self.root_dir if self.root_dir else self.repo


class _Walker:
    def __init__(self, given: LintInput) -> None:
        self.given = given
        self.found: list[Lint] = []

    def add(self, *args: Any, **kwargs: Any) -> None:
        lint = Lint(*args, **kwargs)
        if lint not in self.found:
            self.found.append(lint)

    # -- the shell text ---------------------------------------------------------------------

    def walk(self, text: str, where: str, cwd: Path, in_command: bool, depth: int = 0) -> None:
        for tokens, assignments, raw in shell_commands(text):
            place = where if in_command else f"{where}:{_line_of(text, raw)}"
            for name, value in assignments.items():
                self.cargo(name, value, place)
            if not tokens:
                continue
            command = Path(tokens[0]).name
            if command == "export":
                for word in tokens[1:]:
                    name, has_value, value = word.partition("=")
                    if has_value:
                        self.cargo(name, value, place)
                continue
            if command == "cd":
                cwd = self.cd(tokens, cwd, place, raw if in_command else None)
                continue
            if command in DOCKER_TOOLS:
                self.docker(command, place)
                continue
            script = _script(tokens)
            if script is not None:
                path = cwd / script
                # a script outside the repo (a link to a host file) is never read
                if path.is_file() and depth == 0 and inside_repo(self.given.repo, path):
                    shown = _relative(self.given.repo, path)
                    content = path.read_bytes().decode("utf-8", "replace")
                    self.walk(content, shown, cwd, False, depth + 1)
                elif not path.exists():
                    self.missing(script, "script", cwd, place)
                continue
            args = pip_install_args(tokens)
            if args is not None and command != "uv":
                self.pip(args, cwd, place, raw if in_command else None)

    def cargo(self, name: str, value: str, place: str) -> None:
        if name not in CARGO_VARIABLES:
            return
        self.add(
            "cargo-home-workaround",
            WARNING,
            place,
            f"{name}={value} moves cargo's files somewhere writable, but the Rust source build "
            "still happens: pip compiles the package on every deploy without a build cache "
            "(minutes, with the toolchain of the build machine), and it can still fail later "
            "in the compile",
            "get a wheel instead: a Python the package has wheels for, or a release of it with "
            f"wheels (`render-sim check` lists them); then remove {name}",
        )

    def docker(self, command: str, place: str) -> None:
        self.add(
            "docker-in-native-build",
            ERROR,
            place,
            f"`{command}` cannot run in Render's native Python build: there is no container "
            "engine on the build machine, so the command fails (and installs nothing)",
            "to deploy a Dockerfile, make it a Docker service: `runtime: docker` (with "
            "`dockerfilePath` if the file is not ./Dockerfile) and no buildCommand; Render "
            "builds the image itself. Otherwise install with pip: `pip install -r "
            "requirements.txt`",
        )

    def cd(self, tokens: list[str], cwd: Path, place: str, raw: str | None) -> Path:
        if len(tokens) < 2 or tokens[1] in ("-", "~") or "$" in tokens[1]:
            return cwd
        target = tokens[1]
        destination = (cwd / target).resolve()
        root_dir = self.given.root_dir
        if destination.is_dir():
            return destination
        if root_dir and posixpath.normpath(target) == root_dir and cwd == self.given.root:
            command = self.given.build_command
            action = None
            if raw is not None:
                rest = command.replace(f"{raw} &&", "", 1).strip()
                action = BuildCommand(rest) if rest != command else None
            self.add(
                "cd-into-root-dir",
                ERROR,
                place,
                f"`cd {target}` runs in the root directory, which already is {root_dir} "
                f"(rootDir): Render looks for {root_dir}/{target}, which does not exist, "
                "and the build fails there",
                f"drop `cd {target} &&` from the build command: with rootDir {root_dir} the "
                "command already starts there",
                action,
            )
            return cwd
        self.missing(target, "directory", cwd, place)
        return cwd

    # -- pip ------------------------------------------------------------------------------------

    def pip(self, args: list[str], cwd: Path, place: str, raw: str | None) -> None:
        try:
            options = parse_install(args)
        except PipUsageError as error:
            self.add(
                "pip-usage",
                ERROR,
                place,
                f"pip refuses this command line: {error}",
                "fix the pip options (see `pip install --help`)",
            )
            return
        except PipParserUnavailable as error:
            self.add(
                "pip-unreadable",
                INFO,
                place,
                f"render-sim could not read the pip options with this pip's parser ({error})",
                "nothing to change in the repo; update render-sim",
            )
            return
        if options.names_only_binary_all():
            action = None
            if raw is not None:
                action = BuildCommand(
                    self.given.build_command.replace(raw, _with_all(raw, args), 1)
                )
            self.add(
                "only-binary-all",
                WARNING,
                place,
                '`--only-binary=all` names a package called "all": pip reads package names there '
                "and only `:all:` means every package, so every other package is still built "
                "from source when it has no wheel",
                "write `--only-binary=:all:` to make pip refuse every source build (a missing "
                "wheel then fails the install at once), or list the packages: "
                "`--only-binary=numpy,pandas`",
                action,
            )
        if not options.compile:
            self.add(
                "no-compile",
                INFO,
                place,
                "`--no-compile` only stops pip writing .pyc files after installing; it does "
                "not stop a source build (compiling C or Rust code of a package without a wheel)",
                "remove it unless you mean the .pyc files; to refuse source builds use "
                "`--only-binary=:all:`",
            )
        if not options.cache_dir:
            self.add(
                "no-cache-dir",
                INFO,
                place,
                "`--no-cache-dir` only stops pip caching its downloads; it does not stop a "
                "source build. Render keeps pip's cache between deploys, so without the flag "
                "later deploys download less",
                "remove it, unless pip runs out of memory caching very large wheels",
            )
        for requirement in options.arguments:
            if _unpinned(requirement, "pip") and options.upgrade:
                pin = f"pip=={self.given.newest_pip}" if self.given.newest_pip else "pip==X.Y"
                action = None
                if raw is not None and self.given.newest_pip:
                    fixed = _replace_word(raw, requirement, pin)
                    action = BuildCommand(self.given.build_command.replace(raw, fixed, 1))
                self.add(
                    "unpinned-pip-upgrade",
                    WARNING,
                    place,
                    "`pip install --upgrade pip` installs whichever pip is newest on each "
                    "deploy: the pip version changes under you, and with it how requirements "
                    "resolve and which wheels are accepted",
                    f"pin the version you tested: `pip install --upgrade {pin}`",
                    action,
                )
        for name in (*options.requirements, *options.constraints):
            if "://" in name or "$" in name:
                continue
            if not (cwd / name).is_file():
                self.missing(name, "requirements file", cwd, place, option="-r")

    # -- paths -------------------------------------------------------------------------------------

    def missing(self, name: str, what: str, cwd: Path, place: str, option: str = "") -> None:
        given = self.given
        shown_cwd = _relative(given.repo, cwd) or "the repo root"
        wanted = posixpath.normpath(posixpath.join(_relative(given.repo, cwd), name))
        homes = sorted(
            {
                f[: -len(wanted) - 1]
                for f in given.files
                if f.endswith("/" + wanted) or (what == "directory" and f"/{wanted}/" in f"/{f}")
            }
            - {""}
        )
        fix, action = "", None
        if what != "directory" and len(homes) == 1 and not given.root_dir:
            home = homes[0]
            fix = (
                f"{name} is in {home}/: set the service's Root Directory (`rootDir: {home}` in "
                f"render.yaml), or name the path from the repo root (`{option or 'run'} "
                f"{home}/{name}`)"
            )
            action = SetRootDir(home)
        else:
            near = difflib.get_close_matches(wanted, list(given.files), n=1, cutoff=0.8)
            if near:
                fix = f"did you mean {near[0]}? fix the path in the build command"
            else:
                fix = f"commit the {what}, or fix the path (the command runs in {shown_cwd})"
        self.add(
            "missing-path",
            ERROR,
            place,
            f"the {what} {name} does not exist in {shown_cwd}, where the command runs: "
            "the build fails there",
            fix,
            action,
        )

    def runtime_txt(self) -> None:
        path = self.given.root / "runtime.txt"
        if not path.is_file():
            return
        shown = _relative(self.given.repo, path)
        asks = runtime_txt_request(path, self.given.repo)
        action = None
        if asks.count(".") == 2:
            action = SetEnv("PYTHON_VERSION", asks)
        self.add(
            "runtime-txt",
            WARNING,
            shown,
            f"Render does not read {shown} (Heroku's file): it asks for {asks}, and Render "
            f"uses {self.given.python or 'its default'} ({self.given.python_source or 'default'})",
            f"set PYTHON_VERSION={asks if action else 'X.Y.Z'} on the service (or commit "
            f".python-version), and delete {shown}",
            action,
        )


def lint(given: LintInput) -> list[Lint]:
    """Every finding for the service, errors first."""
    walker = _Walker(given)
    walker.walk(given.build_command, "build command", given.root, True)
    for name in CARGO_VARIABLES:
        if name in given.env:
            walker.cargo(name, given.env[name], "the service's environment")
    walker.runtime_txt()
    order = {ERROR: 0, WARNING: 1, INFO: 2}
    return sorted(walker.found, key=lambda item: order[item.severity])


def _script(tokens: list[str]) -> str | None:
    """The shell script a command runs (`./build.sh`, `bash build.sh`, `sh -e x.sh`)."""
    words = tokens
    if Path(words[0]).name in _SCRIPT_RUNNERS:
        words = [w for w in words[1:] if not w.startswith("-")]
        return words[0] if words and words[0].endswith(".sh") else None
    return words[0] if words[0].endswith(".sh") else None


def _unpinned(text: str, package: str) -> bool:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return False
    same = canonicalize_name(requirement.name) == package
    return same and not requirement.specifier and requirement.url is None


def _with_all(raw: str, args: list[str]) -> str:
    fixed = raw
    for word in ("--only-binary=all", "--only-binary all", "--only-binary=ALL"):
        fixed = fixed.replace(word, "--only-binary=:all:")
    return fixed


def _replace_word(raw: str, word: str, new: str) -> str:
    """`raw` with its last word `word` (the argument, not the command `pip`) set to `new`."""
    parts = raw.split(" ")
    for position in range(len(parts) - 1, 0, -1):
        if parts[position].strip("'\"") == word:
            parts[position] = new
            break
    return " ".join(parts)


def _line_of(text: str, raw: str) -> int:
    position = text.find(raw)
    return text.count("\n", 0, position) + 1 if position >= 0 else 0


def _relative(repo: Path, path: Path) -> str:
    try:
        text = path.resolve().relative_to(repo.resolve()).as_posix()
    except ValueError:
        return path.as_posix()
    return "" if text == "." else text
