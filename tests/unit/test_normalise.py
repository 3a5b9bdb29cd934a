"""Layer 1: every wrapper a pasted log carries is stripped, nothing that is content is, and every
line keeps its number."""

from __future__ import annotations

from simulator.diagnose.scan import ScannedLog
from simulator.diagnose.text import normalise, normalise_text


def lines(raw: str) -> list[str]:
    return normalise_text(raw).split("\n")


def test_rfc3339_timestamps_of_render_log_stream_are_stripped() -> None:
    raw = "2025-09-30T15:24:41.906116331Z ==> Uploading build...\n"
    assert lines(raw)[0] == "==> Uploading build..."


def test_render_dashboard_times_are_stripped() -> None:
    raw = "Oct 20 12:17:51 PM  ==> Build failed 😞\nJan 8 12:29:38 AM  ERROR: x\n"
    assert lines(raw)[:2] == ["==> Build failed 😞", "ERROR: x"]


def test_buildkit_step_and_time_prefixes_are_stripped() -> None:
    raw = "#10 6.913 Collecting six\n#8 ERROR: process did not complete\n#0 381.7 Killed\n"
    assert lines(raw)[:3] == ["Collecting six", "ERROR: process did not complete", "Killed"]


def test_bare_buildkit_times_are_stripped_when_several_lines_carry_them() -> None:
    raw = "2.344 ERROR: Could not open requirements file\n2.512\n2.512 [notice] x\n"
    assert lines(raw)[:3] == ["ERROR: Could not open requirements file", "", "[notice] x"]


def test_a_line_starting_with_a_version_is_content() -> None:
    assert lines("3.14 is Render's default\n")[0] == "3.14 is Render's default"


def test_docker_compose_service_prefixes_are_stripped() -> None:
    raw = "web-1  | Collecting flask\napp_1 | ERROR: No matching distribution found for flash\n"
    assert lines(raw)[:2] == ["Collecting flask", "ERROR: No matching distribution found for flash"]


def test_heroku_remote_prefixes_are_stripped() -> None:
    raw = "remote:        Collecting flask\nremote: \n"
    assert lines(raw)[:2] == ["       Collecting flask", ""]


def test_github_actions_timestamp_and_error_marker_are_stripped() -> None:
    raw = "2024-05-01T10:00:00.1234567Z ##[error]Process completed with exit code 1.\n"
    assert lines(raw)[0] == "Process completed with exit code 1."


def test_nested_prefixes_are_stripped_together() -> None:
    raw = "2024-05-01T10:00:00.1234567Z #12 2.185 error: externally-managed-environment\n"
    assert lines(raw)[0] == "error: externally-managed-environment"


def test_kaniko_ci_bracketed_time_and_logrus_level_are_stripped() -> None:
    raw = "[2024-02-27 00:22:22] │ INFO[0047] Running: [/bin/sh -c pip install]\n"
    assert lines(raw)[0] == "Running: [/bin/sh -c pip install]"


def test_jenkins_clock_times_are_stripped_when_several_lines_carry_them() -> None:
    raw = "04:50:27  Collecting psycopg2\n04:50:27      Error: pg_config executable not found.\n"
    assert lines(raw)[:2] == ["Collecting psycopg2", "    Error: pg_config executable not found."]


def test_markdown_blockquote_is_stripped_before_the_prefixes_it_quotes() -> None:
    raw = "> 24.74   Caused by: Permission denied (os error 13)\n> 24.74 x\n>\n"
    assert lines(raw)[:3] == ["  Caused by: Permission denied (os error 13)", "x", ""]


def test_a_quote_behind_a_timestamp_is_stripped_with_it() -> None:
    raw = "2024-05-01T10:00:00Z > ERROR: ResolutionImpossible\n2024-05-01T10:00:01Z > > x\n"
    assert lines(raw)[:2] == ["ERROR: ResolutionImpossible", "x"]


def test_a_greater_than_sign_starting_a_word_is_content() -> None:
    assert lines(">=3.10 is required\n")[0] == ">=3.10 is required"


def test_markdown_code_fences_become_blank_lines() -> None:
    assert lines("```console\nKilled\n```\n")[:3] == ["", "Killed", ""]


def test_markdown_bold_around_a_line_is_stripped() -> None:
    raw = "      **error: command 'gcc' failed: No such file or directory**\n"
    assert lines(raw)[0] == "      error: command 'gcc' failed: No such file or directory"


def test_a_paste_wrapped_in_backticks_loses_them() -> None:
    raw = "`  Downloading pip-24.2.whl\nERROR: No matching distribution found for install`\n"
    assert lines(raw)[:2] == [
        "  Downloading pip-24.2.whl",
        "ERROR: No matching distribution found for install",
    ]


def test_ansi_colours_are_stripped() -> None:
    assert lines("\x1b[31mERROR: x\x1b[0m\n")[0] == "ERROR: x"


def test_crlf_line_ends_become_lf_and_keep_the_count() -> None:
    assert normalise_text("a\r\nb\r\n") == "a\nb\n"


def test_a_carriage_return_inside_a_line_keeps_both_parts_on_one_line_number() -> None:
    log = ScannedLog("Collecting torch\nDownloading torch.whl (800 MB)\rKilled\nnext\n")
    killed = log.data.index(b"Killed")
    assert log.line_number(killed) == 2
    assert log.line_number(log.data.index(b"next")) == 3


def test_a_progress_bar_glued_to_the_next_word_is_dropped() -> None:
    raw = "     ━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━ 46.8/46.8 kBKilled\n"
    assert lines(raw)[0].strip() == "Killed"


def test_an_old_pip_percent_bar_glued_to_the_next_word_is_dropped() -> None:
    raw = "    99% |████████████████████████████████| 360.3MB 32.1MB/s eta 0:00:01Killed\n"
    assert lines(raw)[0].strip() == "Killed"


def test_byte_order_marks_are_dropped() -> None:
    assert lines("\ufeffCollecting six\n")[0] == "Collecting six"


def test_no_line_is_added_or_removed() -> None:
    raw = "2025-01-01T00:00:00Z a\n#1 2.0 b\n```\nc\n> d\n"
    assert normalise(raw).data.count(b"\n") == raw.count("\n")
