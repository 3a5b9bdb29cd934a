"""The build log: masking and where it is written."""

from __future__ import annotations

import base64
import json
import math
import re
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from simulator.build.buildlog import MASK, BuildLog, EchoThrottle, Masker, log_path_for


def test_secret_is_masked_everywhere_it_appears(tmp_path: Path) -> None:
    seen: list[str] = []
    with BuildLog(tmp_path / "b.log", ["hunter22"], lambda _k, line: seen.append(line)) as log:
        log.output("token=hunter22 and again hunter22")
        log.render("==> Running build command 'echo hunter22'...")
    saved = (tmp_path / "b.log").read_text()
    assert "hunter22" not in saved
    assert "hunter22" not in "".join(seen)
    assert "hunter22" not in log.text()
    assert saved.count(MASK) == 3


def test_longer_secret_masked_whole_when_it_contains_a_shorter_one() -> None:
    assert Masker(["abc", "abcdef"])("x abcdef y") == f"x {MASK} y"


def test_too_short_values_are_not_masked() -> None:
    assert Masker(["1"])("version 1.0") == "version 1.0"


def test_notes_are_marked_as_render_sims(tmp_path: Path) -> None:
    with BuildLog(tmp_path / "b.log") as log:
        log.note("copying 3 files")
    assert (tmp_path / "b.log").read_text() == "[render-sim] copying 3 files\n"


def test_log_path_is_under_render_sim_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RENDER_SIM_HOME", str(tmp_path))
    path = log_path_for("owner/repo", "web api")
    assert path.parent == tmp_path / "logs"
    assert "/" not in path.name and " " not in path.name


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_fast_output_is_thinned_live_and_its_last_lines_shown(tmp_path: Path) -> None:
    clock = FakeClock()
    shown: list[tuple[str, str]] = []
    throttle = EchoThrottle(
        lambda kind, line: shown.append((kind, line)), rate=40, tail=3, clock=clock
    )
    for number in range(100):  # all within one window of 0.25 s: 10 lines may pass
        throttle("output", f"line {number}")
    throttle.flush()
    outputs = [line for kind, line in shown if kind == "output"]
    assert outputs == [f"line {n}" for n in range(10)] + ["line 97", "line 98", "line 99"]
    notes = [line for kind, line in shown if kind == "note"]
    assert notes == [
        "[render-sim] 87 line(s) printed too fast to show here; the saved log has every line"
    ]


def test_output_at_a_readable_pace_is_all_echoed() -> None:
    clock = FakeClock()
    shown: list[str] = []
    throttle = EchoThrottle(lambda _kind, line: shown.append(line), rate=40, clock=clock)
    for number in range(100):
        clock.now += 0.05  # 20 lines a second, under the rate
        throttle("output", f"line {number}")
    throttle.flush()
    assert shown == [f"line {n}" for n in range(100)]


def test_render_lines_and_notes_are_never_thinned() -> None:
    clock = FakeClock()
    shown: list[tuple[str, str]] = []
    throttle = EchoThrottle(lambda kind, line: shown.append((kind, line)), rate=4, clock=clock)
    for number in range(10):
        throttle("output", f"line {number}")
    throttle("render", "==> Build failed 😞")
    assert shown[-1] == ("render", "==> Build failed 😞")
    assert ("output", "line 9") in shown  # the tail came first, before Render's line


def test_every_line_is_recorded_whatever_the_echo_shows(tmp_path: Path) -> None:
    shown: list[str] = []
    with BuildLog(tmp_path / "b.log", echo=lambda _kind, line: shown.append(line)) as log:
        for number in range(50_000):
            log.output(f"line {number}")
    saved = (tmp_path / "b.log").read_text().splitlines()
    assert saved == [f"line {n}" for n in range(50_000)]
    assert log.lines == saved
    assert shown[-1] == "line 49999"


# -- secrets printed in another form ------------------------------------------------------------

SECRET = 'tok"en\\with/sp ace+é-4711'  # JSON and URLs escape `"`, `\`, `/`, ` `, `+` and `é`


def logged(secret: str, *lines: str, tmp_path: Path) -> tuple[list[str], str]:
    """Write `lines` as build output with `secret` masked: (what was echoed, the saved log)."""
    shown: list[str] = []
    with BuildLog(tmp_path / "b.log", [secret], lambda _kind, line: shown.append(line)) as log:
        for line in lines:
            log.output(line)
    return shown, (tmp_path / "b.log").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "printed",
    [
        pytest.param(json.dumps(SECRET)[1:-1], id="json-ascii"),
        pytest.param(json.dumps(SECRET, ensure_ascii=False)[1:-1], id="json-unicode"),
        pytest.param(json.dumps(SECRET)[1:-1].replace("/", "\\/"), id="json-escaped-slash"),
    ],
)
def test_secret_is_masked_when_json_escaped(tmp_path: Path, printed: str) -> None:
    assert printed != SECRET
    shown, saved = logged(SECRET, f'{{"token": "{printed}"}}', tmp_path=tmp_path)
    assert shown == [f'{{"token": "{MASK}"}}']
    assert saved == f'{{"token": "{MASK}"}}\n'


@pytest.mark.parametrize(
    "printed",
    [
        pytest.param(urllib.parse.quote(SECRET, safe=""), id="quote"),
        pytest.param(urllib.parse.quote(SECRET), id="quote-keeping-slash"),
        pytest.param(urllib.parse.quote_plus(SECRET), id="form-encoded"),
        pytest.param(urllib.parse.quote(SECRET, safe="").lower(), id="lower-case-hex"),
    ],
)
def test_secret_is_masked_when_url_encoded(tmp_path: Path, printed: str) -> None:
    if printed.islower():  # only the %XX escapes lower-cased, the value's letters kept
        printed = re.sub(r"%[0-9a-f]{2}", lambda m: m[0], urllib.parse.quote(SECRET, safe=""))
        printed = re.sub(r"%[0-9A-F]{2}", lambda m: m[0].lower(), printed)
    shown, _ = logged(SECRET, f"https://deploy:{printed}@pkgs.example.invalid/", tmp_path=tmp_path)
    assert shown == [f"https://deploy:{MASK}@pkgs.example.invalid/"]


@pytest.mark.parametrize("encode", [base64.b64encode, base64.urlsafe_b64encode])
def test_secret_is_masked_when_base64_encoded(tmp_path: Path, encode: Any) -> None:
    printed = encode(SECRET.encode()).decode()
    shown, _ = logged(
        SECRET, f"token: {printed}", f"unpadded: {printed.rstrip('=')}", tmp_path=tmp_path
    )
    assert shown == [f"token: {MASK}", f"unpadded: {MASK}"]


@pytest.mark.parametrize("before", ["u:", "us:", "user:"])  # each offset modulo 3
def test_secret_is_masked_inside_a_longer_base64_text(tmp_path: Path, before: str) -> None:
    header = base64.b64encode(f"{before}{SECRET}".encode()).decode()
    shown, _ = logged(SECRET, f"Authorization: Basic {header}", tmp_path=tmp_path)
    assert MASK in shown[0]
    visible = shown[0].removeprefix("Authorization: Basic ").replace(MASK, "")
    # only the characters that carry `before`'s bits, and the last one with the padding
    assert len(visible) <= math.ceil(len(before) * 4 / 3) + 3, shown


def test_secret_is_masked_when_hex_encoded(tmp_path: Path) -> None:
    data = SECRET.encode()
    shown, _ = logged(SECRET, f"dump {data.hex()}", f"DUMP {data.hex().upper()}", tmp_path=tmp_path)
    assert shown == [f"dump {MASK}", f"DUMP {MASK}"]


def test_secret_split_over_two_lines_is_masked_on_both(tmp_path: Path) -> None:
    shown, saved = logged(
        SECRET, f"key: {SECRET[:9]}", f"{SECRET[9:]} (wrapped)", tmp_path=tmp_path
    )
    assert shown == [f"key: {MASK}", f"{MASK} (wrapped)"]
    assert saved == f"key: {MASK}\n{MASK} (wrapped)\n"


def test_secret_split_after_its_first_character_is_masked_on_the_second_line(
    tmp_path: Path,
) -> None:
    shown, _ = logged(SECRET, f"key: {SECRET[:1]}", f"{SECRET[1:]} (wrapped)", tmp_path=tmp_path)
    assert shown == [f"key: {SECRET[:1]}", f"{MASK} (wrapped)"]


def test_base64_wrapped_at_76_columns_is_masked_on_both_lines(tmp_path: Path) -> None:
    secret = "s3cr3t-" * 10
    wrapped = base64.encodebytes(secret.encode()).decode().splitlines()  # as `base64` prints it
    assert len(wrapped) == 2
    shown, _ = logged(secret, *wrapped, tmp_path=tmp_path)
    assert shown == [MASK, MASK]


def test_line_that_only_starts_like_a_secret_is_written_unchanged(tmp_path: Path) -> None:
    shown, saved = logged(SECRET, f"key: {SECRET[:9]}", "something else", tmp_path=tmp_path)
    assert shown == [f"key: {SECRET[:9]}", "something else"]
    assert saved == f"key: {SECRET[:9]}\nsomething else\n"


def test_line_held_back_for_a_split_secret_comes_before_the_next_note(tmp_path: Path) -> None:
    with BuildLog(tmp_path / "b.log", [SECRET]) as log:
        log.output(f"key: {SECRET[:9]}")
        log.note("the build ended")
    assert log.all_lines == [f"key: {SECRET[:9]}", "[render-sim] the build ended"]


def test_encoded_forms_of_a_short_value_are_not_masked_in_ordinary_base64() -> None:
    # "abcde" is masked as itself and whole encodings, not as 5 characters found anywhere
    ordinary = base64.b64encode(b"xyabcdexy").decode()
    assert Masker(["abcde"])(ordinary) == ordinary


def test_value_of_two_characters_is_masked_in_no_form() -> None:
    assert Masker(["ab"])(f"ab {base64.b64encode(b'ab').decode()} {b'ab'.hex()}") == "ab YWI= 6162"
