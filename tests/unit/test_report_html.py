"""The HTML report: what it shows, that it escapes and masks, that it needs no network. No Docker."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from simulator.build.buildlog import report_path_for
from simulator.errors import UsageError
from simulator.plan.models import BuildPlan, Options
from simulator.report.html import (
    HEAD_LINES,
    MAX_LOG_LINES,
    TAIL_LINES,
    ServiceRun,
    check_report_path,
    render_report,
    save_beside_log,
    shown_lines,
)
from simulator.verify.changes import Change
from simulator.verify.outcome import VERIFIED, Attempt, Verification
from tests.report_samples import HOSTILE_LINE, SECRET, sample_plan, sample_result

RESOURCE_TAGS = {"script", "link", "img", "iframe", "object", "embed", "audio", "video", "source"}


class Elements(HTMLParser):
    """Every start tag with its attributes, and the text of <style>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.style = ""
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.style += data


def elements(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def report(tmp_path: Path, build_command: str = "python build_tables.py") -> tuple[str, BuildPlan]:
    plan = sample_plan(tmp_path / "app", build_command)
    result = sample_result(tmp_path / "app.log")
    return render_report(plan, [ServiceRun(plan.services[0], result)]), plan


def ids(page: str) -> set[str]:
    return {a["id"] or "" for _, a in elements(page).tags if a.get("id")}


# -- escaping and masking -----------------------------------------------------------------------


def test_log_line_with_a_script_tag_stays_text(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;owned&#x27;)&lt;/script&gt;" in page
    assert not [tag for tag, _ in elements(page).tags if tag in ("script", "img")]


def test_build_command_from_the_user_is_escaped(tmp_path: Path) -> None:
    page, _ = report(tmp_path, build_command="echo '<b>bold</b>' && pip install x")
    assert "<b>bold</b>" not in page
    assert "echo &#x27;&lt;b&gt;bold&lt;/b&gt;&#x27; &amp;&amp; pip install x" in page


def test_a_secret_value_in_the_build_command_is_masked(tmp_path: Path) -> None:
    page, _ = report(tmp_path, build_command=f"curl -H 'token: {SECRET}' https://x.invalid")
    assert SECRET not in page
    assert "token: ••••••" in page


# -- self-contained -----------------------------------------------------------------------------


def test_report_loads_no_resource_from_anywhere(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    found = elements(page)
    assert not [tag for tag, _ in found.tags if tag in RESOURCE_TAGS]
    assert not [a for _, a in found.tags if "src" in a or "srcset" in a or "xlink:href" in a]


def test_every_link_of_the_report_points_inside_it(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    hrefs = [a["href"] or "" for _, a in elements(page).tags if "href" in a]
    assert hrefs and all(h.startswith("#") for h in hrefs), hrefs
    assert {h[1:] for h in hrefs} <= ids(page)


def test_report_style_fetches_nothing(tmp_path: Path) -> None:
    style = elements(report(tmp_path)[0]).style
    assert "body" in style
    assert not re.search(r"url\(|@import|@font-face|https?://", style)


def test_no_http_url_is_an_attribute_value_besides_the_svg_namespace(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    for _, attrs in elements(page).tags:
        for name, value in attrs.items():
            if name != "xmlns":
                assert not re.search(r"(?:https?:)?//", value or ""), (name, value)


# -- what it shows ------------------------------------------------------------------------------


def test_plan_says_the_python_and_where_it_came_from(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    assert "<strong>3.13.4</strong> (from PYTHON_VERSION: 3.13.4)" in page


def test_plan_shows_the_memory_limit(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    assert "256 MB, 2 CPUs, 120 min" in page


def test_each_evidence_line_links_to_its_log_line(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    assert '<a href="#s1-L5">line 5</a>' in page
    assert '<a href="#s1-L9">line 9</a>' in page
    assert {"s1-L5", "s1-L9"} <= ids(page)


def test_evidence_lines_are_highlighted_in_the_log(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    highlighted = [
        a["id"]
        for tag, a in elements(page).tags
        if tag == "div" and "evidence" in (a.get("class") or "").split()
    ]
    assert highlighted == ["s1-L5", "s1-L9"]


def test_renders_event_is_the_line_after_the_log(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    line = re.search(r'<div class="([^"]*)" id="s1-L9">.*?<span>(.*?)<', page)
    assert line is not None
    assert "event-line" in line.group(1)
    assert line.group(2) == "Ran out of memory (used over 256MB) while building your code."


def test_diagnosis_shows_class_culprit_and_root_cause(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    assert "<code>out-of-memory</code>" in page
    assert "The build ran out of memory and was killed" in page
    assert "The build ran out of memory &lt;and&gt; was killed during the build command" in page


def test_fix_is_shown_with_its_action(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    assert "Limit parallel compiles" in page
    assert "set CMAKE_BUILD_PARALLEL_LEVEL=1 on the service" in page


def test_memory_chart_and_phase_timeline_are_in_the_report(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    assert {"memory-chart", "memory-curve", "memory-limit", "oom-marker", "phase-timeline"} <= ids(
        page
    )
    assert "Killed for lack of memory at 6.0 s" in page


def test_phases_are_listed_with_their_durations(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    assert re.search(r"<td>build command</td><td[^>]*>2\.0 s</td><td[^>]*>4\.2 s</td>", page)


def test_hostile_log_line_keeps_its_text(tmp_path: Path) -> None:
    page, _ = report(tmp_path)
    texts = re.findall(r'id="s1-L5">.*?<span>(.*?)<a class="back"', page)
    assert (
        texts
        and texts[0]
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
        == HOSTILE_LINE
    )


def test_verified_fix_is_shown_with_the_change(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "app")
    result = sample_result(tmp_path / "app.log")
    fix = result.diagnosis.fixes[0] if result.diagnosis else None
    assert fix is not None
    change = Change("CMAKE_BUILD_PARALLEL_LEVEL=1", "Set CMAKE_BUILD_PARALLEL_LEVEL=1", Options())
    verification = Verification(
        service="app",
        status=VERIFIED,
        original=result,
        fix=fix,
        fix_number=1,
        change=change,
        attempts=[Attempt(1, fix, "diagnosis", status="passed", change=change, rounds=1)],
    )
    page = render_report(plan, [ServiceRun(plan.services[0], result, verification)])
    assert "verified: the build passes with CMAKE_BUILD_PARALLEL_LEVEL=1" in page
    assert "<td>Limit parallel compiles</td><td>diagnosis</td>" in page


# -- a long log, and where the report goes ------------------------------------------------------


def test_a_short_log_is_shown_whole() -> None:
    assert shown_lines(50, [7]) == list(range(1, 51))


def test_a_huge_log_shows_its_head_its_tail_and_the_evidence() -> None:
    count = MAX_LOG_LINES * 3
    evidence = 30_000
    shown = shown_lines(count, [evidence])
    assert shown[:HEAD_LINES] == list(range(1, HEAD_LINES + 1))
    assert shown[-TAIL_LINES:] == list(range(count - TAIL_LINES + 1, count + 1))
    assert {evidence - 1, evidence, evidence + 1} <= set(shown)
    assert len(shown) < MAX_LOG_LINES


def test_report_is_saved_beside_the_log_with_its_name(tmp_path: Path) -> None:
    plan = sample_plan(tmp_path / "app")
    result = sample_result(tmp_path / "logs-app-20260301.log")
    saved = save_beside_log(plan, ServiceRun(plan.services[0], result))
    assert saved == tmp_path / "logs-app-20260301.html" == report_path_for(result.log_path)
    assert saved.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_report_path_in_a_missing_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        check_report_path(tmp_path / "nowhere" / "report.html")


def test_result_json_names_the_report(tmp_path: Path) -> None:
    result = sample_result(tmp_path / "app.log")
    result.report_path = tmp_path / "app.html"
    data = result.to_dict()
    assert data["report"] == str(tmp_path / "app.html")
    assert [p["name"] for p in data["phases"]][-1] == "diagnosis"


def test_simulate_refuses_a_report_path_in_a_missing_directory_before_building(
    tmp_path: Path,
) -> None:
    # No engine answers at this DOCKER_HOST: exit 2 (usage), not 4, proves no build was tried.
    missing = tmp_path / "nowhere" / "report.html"
    done = subprocess.run(
        [sys.executable, "-m", "simulator", "simulate", str(tmp_path), "--report", str(missing)],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_HOST": "unix:///nonexistent/render-sim-test.sock"},
        timeout=60,
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert "does not exist" in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
