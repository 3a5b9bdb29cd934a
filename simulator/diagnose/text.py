"""Layer 1: the log with what wraps its lines stripped, its line numbers kept.

A pasted log carries the marks of where it was copied from: ANSI colours, CRLF line ends, a
timestamp on every line (Render's log stream, GitHub Actions), Render's dashboard times
(`Oct 20 12:17:51 PM`), BuildKit's `#10 6.913` and plain `5.628`, docker compose's `web-1  | `,
Heroku's `remote: `, GitHub's `##[error]`, kaniko's `INFO[0047]`, Jenkins' `04:50:27`, Markdown
quoting (`> `, code fences, a paste wrapped in backticks or `**bold**`) and progress bars that a
lost line break glued to the next word (`━━━━ 46.8/46.8 kBKilled`). `normalise` removes them all
and keeps every line where it was: no `\\n` is added or removed, so an offset's line number is
its count of newlines. The one exception is a lone carriage return inside a line (a terminal
overwriting a progress bar): both parts are kept, as two logical lines that share the physical
line number, recorded in `LogText.soft_breaks`. Typographic single quotes (gcc's `‘name’` in a
UTF-8 locale) become ASCII ones, so one pattern reads both.

Prefixes are stripped layer by layer (a GitHub Actions timestamp before a BuildKit prefix,
a blockquote before both). Two of them look like content: a bare `5.628 ` (BuildKit's plain
progress) and a bare `04:50:27 ` (Jenkins) are only taken for prefixes when at least two lines
start that way; `3.14 is the default` on its own is content.

The work is done on UTF-8 bytes with a handful of C-level substitutions, so it stays linear and
cheap on logs of tens of megabytes; lines are decoded only when something reads them.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass

BOM = b"\xef\xbb\xbf"

# Escape sequences (ECMA-48): CSI (colours, cursor moves), OSC (titles, links; never across a
# line end, so the line count stays), then any other ESC with its intermediate and final bytes
# (`ESC c` resets the terminal, `ESC ( 0` switches to line drawing), then a lone ESC. A pasted log
# shown as evidence must not drive the reader's terminal.
_ANSI = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b\n]*(?:\x07|\x1b\\)|[ -/]*[0-~]|)")

_MONTHS = rb"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
# The blank after a prefix (one character: the line's own indentation is kept); a prefix may
# stand alone on its line. Render's dashboard and Jenkins put two.
_GAP = rb"(?:[ \t]|(?=\n))"
_GAP2 = rb"(?:[ \t]{1,2}|(?=\n))"
# Prefixes that are never content. An outer one (a timestamp, Render's dashboard time, compose,
# Heroku) may wrap up to two inner ones (a timestamp, BuildKit, GitHub's markers, logrus): one
# match strips them all.
_ISO = (
    # RFC 3339 / ISO 8601 (Render's log stream, GitHub Actions, kaniko CI), maybe in brackets and
    # followed by a `│` column rule
    rb"\[?\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d| ?UTC)?\]?"
    rb"(?:[ \t]+(?:\xe2\x94\x82|\|)(?=[ \t\n]))?" + _GAP
)
# Render's dashboard: "Jan 8 12:29:38 AM", "Oct 20 12:17:51 PM"
_DASHBOARD = _MONTHS + rb" {1,2}\d{1,2},? (?:\d{4} )?\d{1,2}:\d\d:\d\d(?: ?[AP]M)?" + _GAP2
_BUILDKIT = rb"#\d+ (?:\d+\.\d+(?: |(?=\n)))?|#\d+(?=\n)"  # "#12 2.185 ", "#8 ", "#0 381.7 "
_COMPOSE = rb"[A-Za-z0-9][\w.-]*?[-_]\d+[ \t]+\|(?: |(?=\n))"  # "web-1  | ", "app_1 | "
_HEROKU = rb"remote:(?: |(?=\n))"  # git push to Heroku
_GITHUB = rb"##\[(?:error|warning|notice|debug|group|endgroup|command|section)\]"
_LOGRUS = rb"(?:INFO|WARN|ERRO|DEBU|FATA)\[\d{4,}\] "  # kaniko: "INFO[0047] "
_OUTER = b"|".join((_ISO, _DASHBOARD, _COMPOSE, _HEROKU))
_INNER = b"|".join((_ISO, _BUILDKIT, _GITHUB, _LOGRUS))
_STRONG_BODY = (
    rb"(?:(?:" + _OUTER + rb")(?:" + _INNER + rb")?(?:" + _INNER + rb")?"
    rb"|(?:" + _INNER + rb")(?:" + _INNER + rb")?)"
)
_STRONG = re.compile(rb"\n(?=[\[\w#])" + _STRONG_BODY)
# Prefixes that could be content: stripped only when two or more lines carry them. Each is
# stripped with the strong prefixes it uncovers on its line in the same pass (`5.628 #12 ...`),
# so the whole log is not read again for them.
_WEAK_PARTS = (
    rb"\n\d{1,5}\.\d{1,3}(?: |(?=\n))",  # BuildKit's plain progress: "5.628 "
    rb"\n\[?\d\d:\d\d:\d\d(?:[.,]\d{1,6})?\]?" + _GAP2,  # Jenkins, Vercel, Streamlit
)
_WEAK = tuple(
    (re.compile(part), re.compile(part + rb"(?:(?=[\[\w#])" + _STRONG_BODY + rb")?"))
    for part in _WEAK_PARTS
)
_FENCE = re.compile(rb"\n[ \t]*(?:```|~~~)[^\n`]*(?=\n)")
# "> ", "> > ", or a bare ">" ending the line; it starts with the literal "\n>", which the
# regex engine finds fast
_QUOTE = re.compile(rb"\n>(?: >)*(?: |(?=\n))")
# Render's own `==> ` lines are never indented: blanks before one come from the paste
_INDENTED_RENDER = re.compile(rb"\n[ \t]+(?===> )")
_BOLD = re.compile(rb"\n([ \t]*)\*\*([^\n]*?)\*\*[ \t]*(?=\n)")
# Progress bars: pip's ━━━━╸ 46.8/46.8 kB 3.7 MB/s eta 0:00:00 and the older
# 99% |#####| 29.5MB 7.7MB/s eta 0:00:01, dropped so a word glued after one stands alone.
_BAR_CHARS = rb"(?:\xe2\x94\x81|\xe2\x95\xb8|\xe2\x95\xba|\xe2\x96[\x88-\x8f])"
_SIZE = rb"[\d.]+ ?[kKMGT]?i?B"
_TAIL = (
    rb"(?:[ \t]*[\d.]+/[\d.]+(?: ?[kKMGT]?i?B)?|[ \t]*" + _SIZE + rb")?"
    rb"(?:[ \t]+[\d.]+ ?[kKMGT]?i?B/s)?"
    rb"(?:[ \t]+(?:eta )?(?:\d+:)?\d+:\d\d)?"
)
# Both start with a literal byte (UTF-8's \xe2, or the `%`), which keeps the scan fast.
_BAR = re.compile(
    rb"\xe2(?:\x94\x81|\x95\xb8|\x95\xba|\x96[\x88-\x8f])" + _BAR_CHARS + rb"*" + _TAIL
)
_PERCENT_BAR = re.compile(rb"\d{1,3}% \|[#\xe2\x96\x88-\x8f ]*\|" + _TAIL)


@dataclass(frozen=True)
class LogText:
    """A normalised log: UTF-8 bytes, and the lines that a lone carriage return split.

    `soft_breaks` holds, sorted, the 0-based logical line numbers that end in a newline which
    was a lone CR in the input: such a line and the next share one physical line number.
    """

    data: bytes
    soft_breaks: tuple[int, ...] = ()

    def physical_line(self, logical: int) -> int:
        """The 1-based line number of the input for the 0-based logical line `logical`."""
        return logical + 1 - bisect.bisect_left(self.soft_breaks, logical)

    def text(self) -> str:
        return self.data.decode("utf-8", "replace")


def _encode(raw: str | bytes) -> bytes:
    if isinstance(raw, bytes):
        return raw
    return raw.encode("utf-8", "replace")


def _soft_breaks(data: bytes) -> tuple[bytes, tuple[int, ...]]:
    """CRLF becomes LF; a lone CR becomes LF too, recorded as a soft break (classic Mac line
    ends, a text with no LF at all, are real line ends)."""
    if b"\r" not in data:
        return data, ()
    data = data.replace(b"\r\n", b"\n")
    if b"\r" not in data:
        return data, ()
    if b"\n" not in data:
        return data.replace(b"\r", b"\n"), ()
    soft: list[int] = []
    line = previous = 0
    for match in re.finditer(rb"\r", data):
        line += data.count(b"\n", previous, match.start())
        soft.append(line + len(soft))
        previous = match.start()
    return data.replace(b"\r", b"\n"), tuple(soft)


def _at_least_two(pattern: re.Pattern[bytes], data: bytes) -> bool:
    found = pattern.finditer(data)
    return next(found, None) is not None and next(found, None) is not None


def _quoting(data: bytes, quotes: bool = True) -> bytes:
    """Markdown around lines: code fences, `> ` quotes (when `quotes`), `**bold**` lines."""
    if b"```" in data or b"~~~" in data:
        data = _FENCE.sub(b"\n", data)
    if quotes and b"\n>" in data:
        data = _QUOTE.sub(b"\n", data)
    if b"**" in data:
        data = _BOLD.sub(rb"\n\1\2", data)
    return data


def _backticks(data: bytes) -> bytes:
    """A paste wrapped in one pair of backticks: `first line ... last line`."""
    # A paste wrapped in one pair of backticks: `first line ... last line`
    head, tail = data[:4096].lstrip(), data[-4096:].rstrip()
    if head.startswith(b"`") and not head.startswith(b"``") and tail.endswith(b"`"):
        first, last = data.index(b"`"), data.rindex(b"`")
        if first < last and not tail.endswith(b"``"):
            data = data[:first] + data[first + 1 : last] + data[last + 1 :]
    return data


def _prefixes(data: bytes) -> bytes:
    data = _STRONG.sub(b"\n", data)
    for weak, weak_then_strong in _WEAK:
        if _at_least_two(weak, data):
            data = weak_then_strong.sub(b"\n", data)
    return data


def _percent_bars(data: bytes) -> bytes:
    """pip's older `99% |####| 29.5MB` bars, on the lines that hold one (found by `% |`)."""
    parts: list[bytes] = []
    done = 0
    position = data.find(b"% |")
    while position != -1:
        start = data.rfind(b"\n", 0, position) + 1
        end = data.find(b"\n", position)
        end = len(data) if end == -1 else end
        parts += [data[done:start], _PERCENT_BAR.sub(b" ", data[start:end])]
        done = end
        position = data.find(b"% |", end)
    return b"".join(parts) + data[done:]


def normalise(raw: str | bytes) -> LogText:
    """The log without colours, line prefixes, Markdown quoting or glued progress bars."""
    data = _encode(raw)
    if BOM in data:
        data = data.replace(BOM, b"")
    if b"\x1b" in data:
        data = _ANSI.sub(b"", data)
    data, soft = _soft_breaks(data)
    if b"\xe2\x80" in data:
        # gcc and other tools quote with U+2018/U+2019 in a UTF-8 locale ("function ‘_Py_X’"),
        # with ASCII quotes elsewhere: one spelling for the rules
        data = data.replace("\u2018".encode(), b"'").replace("\u2019".encode(), b"'")
    data = b"\n" + data
    if b"\n>" in data:
        data = _QUOTE.sub(b"\n", data)  # a blockquote before the prefixes it quotes
    if b" ==> " in data or b"\t==> " in data:
        data = _INDENTED_RENDER.sub(b"\n", data)
    unwrapped = _backticks(data)
    stripped = _prefixes(unwrapped)
    # quotes again only where a stripped prefix uncovered one (`2024-01-02T10:00:00Z > text`)
    data = _quoting(stripped, quotes=len(stripped) != len(unwrapped))[1:]
    if b"\xe2\x94\x81" in data or b"\xe2\x96" in data:
        data = _BAR.sub(b" ", data)
    if b"% |" in data:
        data = _percent_bars(data)
    return LogText(data, soft)


def normalise_text(raw: str | bytes) -> str:
    """`normalise` as text: one line per input line (a lone CR inside a line stays a space)."""
    log = normalise(raw)
    if not log.soft_breaks:
        return log.text()
    lines = log.text().split("\n")
    soft = set(log.soft_breaks)
    out: list[str] = []
    for number, line in enumerate(lines):
        if out and number - 1 in soft:
            out[-1] += " " + line
        else:
            out.append(line)
    return "\n".join(out)
