"""A resolver failure's parties: who requires what, what the user asked for, and the culprit.

Read inside the resolver event only (pip's `The conflict is caused by:` block, pip-tools'
`There are incompatible versions`, Poetry's and uv's `Because ...` sentences, PDM's
`RequirementInformation` list). Each party is an edge `subject version -> dependency spec`; the
user's requests are the `The user requested X` / `you require X` / `my project depends on X`
lines. The culprit is the party whose requirement excludes what the user asked for; when several
do, or no request is shown, one the user pinned directly comes first (a `Collecting X (from -r
requirements.txt ...)` line or the `Cannot install a, b and c` list). It is always one of the
parties the resolver lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion

from simulator.diagnose.mentions import DIST_NAME, parse_requirement
from simulator.diagnose.scan import fixed_matcher
from simulator.diagnose.scope import Scope


@dataclass(frozen=True)
class Conflict:
    """Two requirements that exclude each other, as the resolver reported them."""

    culprit: str
    culprit_version: str | None
    dependency: str
    required: str  # what the culprit needs, e.g. "<=1.4.41,>=1.4.17"
    requested: str  # what the user asked for, e.g. "sqlalchemy==2.0.20"

    def describe(self) -> str:
        if canonicalize_name(self.culprit) == canonicalize_name(self.dependency):
            # two pins of one project (pip: "The user requested X==1" twice)
            return f"{self.requested} and {self.dependency}{self.required} are both requested"
        who = f"{self.culprit} {self.culprit_version}" if self.culprit_version else self.culprit
        needs = f"{self.dependency}{self.required}" if self.required else self.dependency
        if self.requested and self.requested.lower() != self.dependency.lower():
            return f"{who} requires {needs}, but {self.requested} is requested"
        return f"{who} requires {needs}, which the other requirements exclude"


@dataclass(frozen=True)
class Edge:
    subject: str
    version: str | None
    dependency: str
    spec: str


_PIP_REQUESTED = fixed_matcher(r"The user requested (?:\(constraint\) )?(?P<req>\S+)")
_PIP_DEPENDS = fixed_matcher(
    rf"^\s*(?P<name>{DIST_NAME}) (?P<version>\S+) depends on (?P<req>.+?)\s*$", [" depends on "]
)
_PIP_CANNOT = fixed_matcher(r"Cannot install (?P<list>.+?) because these package versions")
_PIPTOOLS_EDGE = fixed_matcher(
    rf"^\s*(?P<dep>{DIST_NAME})(?P<spec>[<>=!~][^\s(]*)? \(from (?P<name>{DIST_NAME})==(?P<version>[^\s>-]+)->",
    ["(from "],
)
_PIPTOOLS_PIN = fixed_matcher(
    rf"^\s*(?P<dep>{DIST_NAME})(?P<spec>[<>=!~][^\s(]*)?(?: from \S+)? \(from -[rc] ",
    ["(from -r", "(from -c"],
)
_POETRY_DEPENDS = fixed_matcher(
    rf"(?P<name>{DIST_NAME}) \((?P<version>[^)]+)\) (?:depends on|requires) (?P<dep>{DIST_NAME})"
    r" (?:\((?P<spec>[^)]+)\)|(?P<bare>[^\s,)]+))",
    [") depends on ", ") requires "],
)
_POETRY_PYTHON = fixed_matcher(
    rf"^\s*-?\s*(?P<name>{DIST_NAME}) requires Python (?P<spec>[^,\s]+(?:,[^,\s]+)*)",
    [" requires Python "],
)
_POETRY_ROOT = fixed_matcher(
    rf"depends on both (?P<dep>{DIST_NAME}) \((?P<spec>[^)]+)\)", ["depends on both "]
)
_UV_DEPENDS = fixed_matcher(
    rf"(?:(?P<all>all versions of )?(?P<name>{DIST_NAME})(?:==(?P<version>[^\s,]+))? depends? on"
    rf" (?P<dep>{DIST_NAME})(?:\{{[^}}]*\}})?(?P<spec>[^\s,]*(?:,\s?[<>=!~][^\s,]*)*))",
    [" depends on ", " depend on "],
)
_UV_REQUESTED = fixed_matcher(
    rf"(?:you require|your project depends on) (?P<dep>{DIST_NAME})(?P<spec>[^\s,]*)",
    ["you require ", "your project depends on "],
)
_UV_PYTHON = fixed_matcher(
    r"(?:requested|current) Python version \((?P<spec>[^)]+)\) does not satisfy",
    ["Python version ("],
)
_PDM_CANDIDATE = fixed_matcher(
    rf"<Candidate (?P<name>{DIST_NAME})@(?P<version>[^>\s]+)>", ["<Candidate "]
)
_PDM_SPEC = re.compile(r"<PySpecSet\s*(?P<spec>[^>]*)>")


def _pip_spec(text: str) -> str:
    """pip writes "pydantic!=1.8, <2.0.0 and >=1.7.4; python_full_version >= "3.12.4"": make it
    a specifier string (the environment marker says when the edge applies, not what it needs)."""
    return text.split(";", 1)[0].replace(" and ", ",").replace(" ", "")


def _poetry_spec(text: str) -> str:
    text = text.strip()
    return f"=={text}" if re.fullmatch(r"\d[\w.]*", text) else text


def probe_version(spec: str) -> str | None:
    """A concrete version a requested specifier stands for: its ==/>= bound."""
    match = re.search(r"(?:===?|>=|~=|\^|~)\s*(\d[\w.+]*)", spec) or re.fullmatch(
        r"(\d[\w.+]*)", spec
    )
    return match.group(1) if match else None


def spec_allows(spec: str, version: str) -> bool | None:
    """Whether `version` satisfies `spec`; None when either cannot be parsed."""
    try:
        return SpecifierSet(spec).contains(version, prereleases=True)
    except (InvalidSpecifier, InvalidVersion):
        return None


def _overlap(a: str, b: str) -> bool | None:
    """Whether two specifiers can both hold: probes each one's bound against the other."""
    probes = [v for v in (probe_version(a), probe_version(b)) if v]
    if not probes:
        return None
    return any(
        spec_allows(a, v) is not False and spec_allows(b, v) is not False for v in probes if v
    )


class _Parties:
    def __init__(self, scope: Scope, direct: frozenset[str]) -> None:
        self.requested: dict[str, str] = {}
        self.all_requests: list[tuple[str, str]] = []  # (name as written, request), in order
        self.edges: list[Edge] = []
        self.direct = set(direct)
        self._read(scope)

    def request(self, name: str, text: str) -> None:
        self.requested.setdefault(canonicalize_name(name), text)
        self.all_requests.append((name, text))

    def double_pin(self) -> Conflict | None:
        """The user asked for one project twice, in ranges that do not overlap."""
        for i, (name, text) in enumerate(self.all_requests):
            for other_name, other in self.all_requests[i + 1 :]:
                if canonicalize_name(other_name) != canonicalize_name(name):
                    continue
                spec, other_spec = text[len(name) :], other[len(other_name) :]
                if _overlap(spec, other_spec) is False:
                    return Conflict(name, None, name, other_spec, text)
        return None

    def _read(self, scope: Scope) -> None:
        for hit in scope.hits(_PIP_REQUESTED):
            req = parse_requirement(hit.match["req"])
            if req:
                self.request(req.name, hit.match["req"])
                self.direct.add(canonicalize_name(req.name))
        for hit in scope.hits(_PIP_CANNOT):
            for item in hit.match["list"].replace(" and ", ", ").split(", "):
                req = parse_requirement(item) if not item.startswith("-") else None
                if req:
                    self.direct.add(canonicalize_name(req.name))
        for hit in scope.hits(_POETRY_ROOT):
            self.request(hit.match["dep"], hit.match["dep"] + _poetry_spec(hit.match["spec"]))
        for hit in scope.hits(_UV_REQUESTED):
            self.request(hit.match["dep"], hit.match["dep"] + hit.match["spec"])
            self.direct.add(canonicalize_name(hit.match["dep"]))
        for hit in scope.hits(_UV_PYTHON):
            self.request("python", "Python" + hit.match["spec"].replace(" ", ""))
        for hit in scope.hits(_PIPTOOLS_PIN):
            self.request(hit.match["dep"], hit.match["dep"] + (hit.match["spec"] or ""))
            self.direct.add(canonicalize_name(hit.match["dep"]))
        for hit in scope.hits(_PIP_DEPENDS):
            req = parse_requirement(_pip_spec(hit.match["req"]))
            if req is not None:
                self.edges.append(
                    Edge(hit.match["name"], hit.match["version"], req.name, str(req.specifier))
                )
        for hit in scope.hits(_PIPTOOLS_EDGE):
            self.edges.append(
                Edge(
                    hit.match["name"],
                    hit.match["version"],
                    hit.match["dep"],
                    hit.match["spec"] or "",
                )
            )
        for hit in scope.hits(_POETRY_DEPENDS):
            spec = _poetry_spec(hit.match["spec"] or hit.match["bare"])
            self.edges.append(Edge(hit.match["name"], hit.match["version"], hit.match["dep"], spec))
        for hit in scope.hits(_POETRY_PYTHON):
            self.edges.append(Edge(hit.match["name"], None, "Python", hit.match["spec"]))
        for hit in scope.hits(_UV_DEPENDS):
            if hit.match["name"].lower() in ("project", "you", "and"):
                continue
            spec = hit.match["spec"].replace(" ", "")
            self.edges.append(Edge(hit.match["name"], hit.match["version"], hit.match["dep"], spec))
        self._read_pdm(scope)

    def _read_pdm(self, scope: Scope) -> None:
        hits = scope.hits(_PDM_CANDIDATE)
        if not hits:
            return
        text = " ".join(line for _, line in scope.lines())
        for match in re.finditer(
            r"RequirementInformation\(requirement=(?P<req>.*?), parent=(?P<parent>None|<Candidate [^>]+>)\)",
            text,
        ):
            spec = _PDM_SPEC.search(match["req"])
            name = re.search(r"name='(?P<name>[^']+)'", match["req"])
            if not name:
                continue
            dependency = name["name"]
            wanted = spec["spec"].replace(" ", "") if spec else ""
            if match["parent"] == "None":
                self.request(dependency, dependency + wanted)
                continue
            parent = re.match(rf"<Candidate (?P<n>{DIST_NAME})@(?P<v>[^>\s]+)>", match["parent"])
            if parent:
                self.edges.append(Edge(parent["n"], parent["v"], dependency, wanted))

    def excludes_request(self, edge: Edge) -> bool:
        wanted = self.requested.get(canonicalize_name(edge.dependency))
        if wanted is None:
            return False
        bound = (
            wanted[len(edge.dependency) :]
            if wanted.lower().startswith(edge.dependency.lower())
            else wanted
        )
        probe = probe_version(bound)
        return probe is not None and spec_allows(edge.spec, probe) is False

    def clashes(self, edge: Edge) -> bool:
        """Another party requires the same dependency in a range that does not overlap."""
        key = canonicalize_name(edge.dependency)
        return any(
            other is not edge
            and canonicalize_name(other.dependency) == key
            and _overlap(edge.spec, other.spec) is False
            for other in self.edges
        )


def find_conflict(scope: Scope, direct: frozenset[str] = frozenset()) -> Conflict | None:
    """The party whose requirement excludes what the user asked for (see the module docstring).

    `direct` are the canonical names the user's own requirements name (from the whole log).
    """
    parties = _Parties(scope, direct)
    if not parties.edges:
        return parties.double_pin()

    def rank(edge: Edge) -> tuple[int, int]:
        return (
            0 if canonicalize_name(edge.subject) in parties.direct else 1,
            parties.edges.index(edge),
        )

    for test in (parties.excludes_request, parties.clashes):
        chosen = sorted((e for e in parties.edges if test(e)), key=rank)
        if chosen:
            edge = chosen[0]
            break
    else:
        edge = sorted(parties.edges, key=rank)[0]
    wanted = parties.requested.get(canonicalize_name(edge.dependency), edge.dependency)
    return Conflict(edge.subject, edge.version, edge.dependency, edge.spec, wanted)
