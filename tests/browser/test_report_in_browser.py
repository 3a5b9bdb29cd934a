"""The HTML report in a real browser: headless Chromium opens it from a `file://` path with the
network cut off, draws the memory chart and the OOM marker, and keeps a hostile log line as text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from simulator.report.html import ServiceRun, write_report
from tests.browser.chromium import dump_dom, screenshot
from tests.report_samples import HOSTILE_LINE, sample_plan, sample_result

CURVE_RGB = (0x2E, 0x86, 0xC1)  # the memory curve's stroke (simulator/report/charts.py)
OOM_RGB = (0xC0, 0x39, 0x2B)  # the limit line and the OOM marker
SIZE = (1200, 4000)  # tall enough to hold the plan, the diagnosis and both charts


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("browser-report")
    plan = sample_plan(root / "app")
    result = sample_result(root / "app.log")
    return write_report(root / "report.html", plan, [ServiceRun(plan.services[0], result)])


@pytest.fixture(scope="module")
def dom(report: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    return dump_dom(report, tmp_path_factory.mktemp("profile-dom"))


@pytest.fixture(scope="module")
def pixels(report: Path, tmp_path_factory: pytest.TempPathFactory) -> Image.Image:
    where = tmp_path_factory.mktemp("profile-shot")
    shot = screenshot(report, where / "profile", where / "report.png", SIZE)
    return Image.open(shot).convert("RGB")


def mask_near(image: Image.Image, rgb: tuple[int, int, int], tolerance: int = 24) -> Image.Image:
    """A black-and-white mask: white where the pixel is within `tolerance` of `rgb`."""
    bands = [
        band.point(lambda v, c=c: 255 if abs(v - c) <= tolerance else 0)
        for band, c in zip(image.split(), rgb, strict=True)
    ]
    return ImageChops.multiply(ImageChops.multiply(bands[0], bands[1]), bands[2])


def count_near(image: Image.Image, rgb: tuple[int, int, int]) -> int:
    histogram = mask_near(image, rgb).histogram()
    return histogram[255]


def test_screenshot_of_the_report_is_not_blank(pixels: Image.Image) -> None:
    colours = pixels.getcolors(maxcolors=1 << 24) or []
    assert len(colours) > 50
    white = sum(count for count, colour in colours if colour == (255, 255, 255))
    assert white < pixels.width * pixels.height * 0.97


def test_screenshot_shows_the_memory_curve(pixels: Image.Image) -> None:
    assert count_near(pixels, CURVE_RGB) > 200


def test_screenshot_shows_the_oom_marker_across_the_curve(pixels: Image.Image) -> None:
    # The curve's box on screen runs from its lowest sample to the peak at the kill; the marker
    # is the one red line crossing all of it, top to bottom (text and the limit line do not).
    box = mask_near(pixels, CURVE_RGB).getbbox()
    assert box is not None
    red = mask_near(pixels, OOM_RGB).crop(box)
    width, height = red.size
    data = red.load()
    assert data is not None
    tallest = max(sum(1 for y in range(height) if data[x, y]) for x in range(width))
    assert tallest >= 0.8 * height, (tallest, height, box)


def test_dom_holds_the_memory_curve_with_its_points(dom: str) -> None:
    curve = re.search(r'<polyline id="memory-curve" points="([^"]+)"', dom)
    assert curve is not None, dom[:2000]
    assert len(curve.group(1).split()) == 6  # five samples and the peak at the kill


def test_dom_holds_the_oom_marker_at_the_kill(dom: str) -> None:
    marker = re.search(r'<g id="oom-marker" class="oom-marker" data-t="([0-9.]+)"', dom)
    assert marker is not None, dom[:2000]
    assert float(marker.group(1)) == 6.0
    assert "OOM kill at 6.0 s" in dom


def test_dom_holds_the_phase_timeline(dom: str) -> None:
    phases = re.findall(r'<rect class="phase" data-phase="([^"]+)"', dom)
    assert phases == [
        "image",
        "container",
        "copy",
        "venv",
        "build command",
        "container removal",
        "diagnosis",
    ]


def test_hostile_log_line_is_text_in_the_browser(dom: str) -> None:
    assert "<script" not in dom and "<img" not in dom
    assert "&lt;script&gt;alert('owned')&lt;/script&gt; &amp; &lt;img src=x" in dom
    assert HOSTILE_LINE.startswith("table 3: <script>")
