"""The build log: Render's own `==>` lines, the build's output, and render-sim's notes.

Every line is masked (secret values from `--env-file`, `sync: false` and `generateValue`
replaced, also JSON-escaped, URL-encoded, in base64 or hex, or cut in two by a line break: see
`Masker`), written to a log file outside the user's repo, kept for the diagnosis, and echoed
live. Render's lines are kept verbatim so the log reads like the one in Render's dashboard;
render-sim's own notes are marked `[render-sim]` so they are never mistaken for Render's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import time
import urllib.parse
from collections import deque
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from simulator import locations

MASK = "••••••"
NOTE_PREFIX = "[render-sim] "
MIN_SECRET_LENGTH = 3  # shorter values would mask ordinary text; they are reported instead
#: A base64 text that only contains a value (`base64("user:" + token)`) is recognised from this
#: many characters of the value's encoding: fewer would match ordinary base64 by chance.
MIN_PARTIAL_BASE64 = 8
#: A line ending in this many characters (or more) of the start of a secret is held back
#: until the next line comes, in case the rest of the secret starts that line.
MIN_SPLIT = 3

# kind is "render" (a `==>` line), "note" (render-sim's own) or "output" (the build's)
Echo = Callable[[str, str], None]


def _no_echo(_kind: str, _line: str) -> None:
    """Echo nothing (the default)."""


def mask_values(secrets: Iterable[str]) -> set[str]:
    """The strings to mask for `secrets`: each value, and each line of a multi-line value.

    The log is masked line by line, so a multi-line value (a PEM key, a JSON credential file)
    printed back would never match whole: each of its lines is masked on its own, as GitHub
    Actions does. Pieces shorter than MIN_SECRET_LENGTH are left out (they would mask ordinary
    text).
    """
    values: set[str] = set()
    for secret in secrets:
        values.add(secret)
        lines = secret.splitlines()
        if len(lines) > 1:
            values.update(line.strip() for line in lines)
    return {v for v in values if len(v) >= MIN_SECRET_LENGTH}


def encoded_forms(value: str) -> set[str]:
    """`value` as a build may print it: as is, JSON-escaped, URL-encoded, base64, hex.

    The same encodings GitHub Actions masks (actions/runner, src/Sdk/DTLogging/Logging/
    ValueEncoders.cs), for the same reason: a build prints a token inside a JSON document, a
    URL (`https://user:tok%40en@host`), a Basic auth header (`base64("user:" + token)`) or a
    hex dump. Each encoding is taken in the spellings tools use: JSON with and without
    `\\uXXXX` for non-ASCII and with `\\/`; percent-encoding with `/` kept or not, `+` for
    spaces, JavaScript's `encodeURIComponent` set, upper- or lower-case hex digits; base64 with
    the standard and the URL-safe alphabet, with and without padding.
    """
    forms = {value}
    for ascii_only in (True, False):
        escaped = json.dumps(value, ensure_ascii=ascii_only)[1:-1]
        forms |= {escaped, escaped.replace("/", "\\/")}
    for encoded in (
        urllib.parse.quote(value, safe=""),
        urllib.parse.quote(value, safe="/"),
        urllib.parse.quote_plus(value, safe=""),
        urllib.parse.quote(value, safe="~!*'()"),  # JavaScript's encodeURIComponent
    ):
        forms |= {encoded, _PERCENT_ESCAPE.sub(lambda m: m[0].lower(), encoded)}
    data = _utf8(value)
    forms |= {data.hex(), data.hex().upper()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        whole = encode(data).decode("ascii")
        forms |= {whole, whole.rstrip("=")}
        forms |= {core for core in _base64_cores(data, encode) if len(core) >= MIN_PARTIAL_BASE64}
    return forms


_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def _utf8(value: str) -> bytes:
    """The bytes the build sees for `value` (undecodable bytes come back as they were)."""
    try:
        return value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogatepass")


def _base64_cores(data: bytes, encode: Callable[[bytes], bytes]) -> set[str]:
    """The base64 characters that encode `data` alone wherever it sits in a longer text.

    Base64 turns 3 bytes into 4 characters, so how `data` is encoded depends on how many bytes
    come before it (0, 1 or 2 modulo 3). For each offset, the characters that also carry bits of
    the bytes before or after it are dropped; what is left appears in the encoding of any text
    that contains `data` at that offset.
    """
    cores = set()
    for offset, mixed_at_start in ((0, 0), (1, 2), (2, 3)):
        text = encode(bytes(offset) + data).decode("ascii").rstrip("=")
        mixed_at_end = 0 if (offset + len(data)) % 3 == 0 else 1
        cores.add(text[mixed_at_start : len(text) - mixed_at_end])
    return cores


class Masker:
    """Replaces secret values, in every form `encoded_forms` lists, with MASK.

    The longest form is masked first, so a secret inside another is masked whole. A form may
    also be cut in two by a line break (a tool wrapping long lines, `base64` wrapping at 76
    columns): `open_end` and `across` let the log find such a form on two lines.
    """

    def __init__(self, secrets: Iterable[str]) -> None:
        forms = {form for value in mask_values(secrets) for form in encoded_forms(value)}
        self._longest = max(map(len, forms), default=0)
        self._pattern = re.compile(_trie_pattern(forms)) if forms else None
        # The starts of forms (MIN_SPLIT characters or more) by their last characters: one
        # dictionary lookup tells most lines from one that may end with such a start.
        self._starts: dict[str, list[tuple[str, int]]] = {}
        for form in forms:
            for n in range(MIN_SPLIT, len(form)):
                self._starts.setdefault(form[n - MIN_SPLIT : n], []).append((form, n))
        # Forms whose first 1 to MIN_SPLIT-1 characters may end a line (too few to hold the
        # line back): the rest of the form, by its first characters, and the piece before it.
        self._rests: dict[str, list[tuple[str, str]]] = {}
        for form in forms:
            for n in range(1, min(MIN_SPLIT, len(form))):
                rest = form[n:]
                self._rests.setdefault(rest[:MIN_SPLIT], []).append((form[:n], rest))

    def __call__(self, text: str) -> str:
        return self._pattern.sub(MASK, text) if self._pattern else text

    def open_end(self, text: str) -> bool:
        """Whether `text` ends with the first MIN_SPLIT or more characters of a secret's form."""
        return any(text.endswith(form[:n]) for form, n in self._starts.get(text[-MIN_SPLIT:], ()))

    def __bool__(self) -> bool:
        """Whether there is anything to mask."""
        return self._pattern is not None

    def across(self, before: str, after: str, open_end: bool) -> tuple[int, int] | None:
        """A form that starts in `before` and ends in `after`: (its start in `before`, its end
        in `after`), or None. `open_end` is what `open_end(before)` says."""
        if self._pattern is None:
            return None
        if not open_end:
            for n in range(1, MIN_SPLIT + 1):
                for piece, rest in self._rests.get(after[:n], ()):
                    if before.endswith(piece) and after.startswith(rest):
                        return len(before) - len(piece), len(rest)
            return None
        cut = min(len(before), self._longest - 1)
        window = before[len(before) - cut :] + after[: self._longest - 1]
        for match in self._pattern.finditer(window):
            if match.start() >= cut:
                break
            if match.end() > cut:
                return len(before) - cut + match.start(), match.end() - cut
        return None


def _trie_pattern(words: Iterable[str]) -> str:
    """A regular expression matching any of `words`, the longest first, written as a trie.

    Python's `re` tries the branches of `a|b|c` one by one at every position; sharing each
    common start makes masking a line about twice as fast with the dozens of forms a few
    secrets have.
    """
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}  # a word ends here

    def branch(node: dict[str, Any]) -> str:
        parts = []
        for char in sorted(key for key in node if key):
            text, child = re.escape(char), node[char]
            # Follow a chain of single children without recursing: words are long.
            while len(child) == 1 and "" not in child:
                ((char, child),) = child.items()
                text += re.escape(char)
            parts.append(text + branch(child))
        if not parts:
            return ""
        body = "(?:" + "|".join(parts) + ")"
        return body + "?" if "" in node else body

    return branch(trie)


#: The longest repo-and-service part of a log's file name: file systems allow 255 bytes a name.
MAX_NAME_IN_PATH = 100


def log_path_for(slug: str, service: str, when: datetime | None = None) -> Path:
    """Where a simulation's log goes: render-sim's logs directory, never the repo.

    The name says which repo and service it is; a longer one is cut and made unique by a hash
    of the whole (a service name may be hundreds of characters long).
    """
    stamp = (when or datetime.now()).strftime("%Y%m%d-%H%M%S-%f")
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{slug}-{service}")
    if len(safe) > MAX_NAME_IN_PATH:
        digest = hashlib.sha256(f"{slug}\0{service}".encode(errors="surrogatepass")).hexdigest()
        safe = f"{safe[: MAX_NAME_IN_PATH - 13]}-{digest[:12]}"
    return locations.subdir("logs") / f"{safe}-{stamp}.log"


def report_path_for(log_path: Path) -> Path:
    """Where a simulation's HTML report goes: beside its saved log, with the same name."""
    return log_path.with_suffix(".html")


def _create(path: Path) -> tuple[Path, TextIO]:
    """A new file at `path`, or beside it with a number when another run took that name.

    Two simulations of one repo started in the same microsecond must not share a log file.
    """
    candidate = path
    for number in range(2, 1000):
        try:
            return candidate, candidate.open("x", encoding="utf-8")
        except FileExistsError:
            candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return path, path.open("w", encoding="utf-8")


class EchoThrottle:
    """The live echo of a build that prints faster than a terminal can show.

    At most `rate` output lines a second reach the echo; past that, lines are counted instead,
    and the echo says how many it left out when it catches up. When the build's output ends,
    the last lines it left out are shown (the error is usually there). Render's lines and
    render-sim's notes always pass. The record (saved log, diagnosis, --json) is not affected:
    only what is shown live is thinned.
    """

    WINDOW_S = 0.25

    def __init__(
        self,
        echo: Echo,
        rate: int = 2000,
        tail: int = 20,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._echo = echo
        self._budget = max(1, int(rate * self.WINDOW_S))
        self._clock = clock
        self._window_start = clock()
        self._shown = 0
        self._skipped = 0
        self._tail: deque[str] = deque(maxlen=tail)

    def __call__(self, kind: str, line: str) -> None:
        if kind != "output":
            self._catch_up(show_tail=True)
            self._echo(kind, line)
            return
        now = self._clock()
        if now - self._window_start >= self.WINDOW_S:
            self._window_start, self._shown = now, 0
            self._catch_up(show_tail=False)
        if self._shown < self._budget:
            self._shown += 1
            self._echo(kind, line)
        else:
            self._skipped += 1
            self._tail.append(line)

    def flush(self) -> None:
        """The build's output ended: say what was left out, and show its last lines."""
        self._catch_up(show_tail=True)

    def _catch_up(self, *, show_tail: bool) -> None:
        if not self._skipped:
            return
        tail = list(self._tail) if show_tail else []
        hidden = self._skipped - len(tail)
        if hidden:
            self._echo(
                "note",
                f"{NOTE_PREFIX}{hidden:,} line(s) printed too fast to show here; "
                "the saved log has every line",
            )
        for line in tail:
            self._echo("output", line)
        self._skipped = 0
        self._tail.clear()


class BuildLog:
    """One simulation's log (a context manager closing the file).

    Every line is recorded (the file, `lines`, `all_lines`) however fast the build prints; the
    live echo is thinned by an `EchoThrottle` when the build prints faster than it can show.

    A secret cut in two by a line break is masked on both lines: an output line that ends with
    the start of a secret's form is held back until the next line comes (or a note, or the end),
    and the start of each line is checked against the end of the line before. A piece shorter
    than MIN_SPLIT at the end of a line is shown (it reveals little); the rest of that secret,
    on the next line, is masked.

    An echo that has an `end_of_log()` method is told when the log ends (the GitHub Actions
    echo closes its fold there).
    """

    FLUSH_S = 0.2  # the file is flushed at most this often while lines arrive, and at the end

    def __init__(self, path: Path, secrets: Iterable[str] = (), echo: Echo = _no_echo) -> None:
        self._mask = Masker(secrets)
        self._echo = EchoThrottle(echo)
        self._end_of_log: Callable[[], None] | None = getattr(echo, "end_of_log", None)
        self.path, self._file = _create(path)
        self._flushed_at = time.monotonic()
        self.lines: list[str] = []  # the build's own output, masked (what the diagnosis reads)
        self.all_lines: list[str] = []  # everything, as saved
        # The last output line as the build printed it, how many of its first characters
        # finish a secret begun on the line before, and whether it is held back (not written).
        self._last: tuple[str, int, bool] | None = None

    def __enter__(self) -> BuildLog:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._release()
        self._echo.flush()
        if not self._file.closed:
            self._file.close()
        if self._end_of_log is not None:
            self._end_of_log()

    def _write(self, kind: str, line: str) -> None:
        self.all_lines.append(line)
        if not self._file.closed:
            self._file.write(line + "\n")
            now = time.monotonic()
            if kind != "output" or now - self._flushed_at >= self.FLUSH_S:
                self._file.flush()
                self._flushed_at = now
        self._echo(kind, line)

    def render(self, line: str) -> None:
        """A line in Render's own words (`==> ...`)."""
        self._release()
        self._write("render", self._mask(line))

    def note(self, line: str) -> None:
        """render-sim's own remark, marked as such."""
        self._release()
        self._write("note", self._mask(NOTE_PREFIX + line))

    def output(self, line: str) -> None:
        """A line the build command printed."""
        if not self._mask:
            self.lines.append(line)
            self._write("output", line)
            return
        head = 0
        if self._last is not None:
            before, before_head, held = self._last
            span = self._mask.across(before[before_head:], line, held)
            if held:
                tail = before_head + span[0] if span else None
                self._output(before, before_head, tail)
            if span is not None:
                head = span[1]
        held = self._mask.open_end(line[head:])
        if not held:
            self._output(line, head, None)
        self._last = (line, head, held)

    def _output(self, line: str, head: int, tail: int | None) -> None:
        """Write an output line masked: its first `head` characters and all from `tail` on end
        or begin a secret that goes on over the line break."""
        masked = self._mask(line[head:tail])
        if head:
            masked = MASK + masked
        if tail is not None:
            masked += MASK
        self.lines.append(masked)
        self._write("output", masked)

    def _release(self) -> None:
        """Write the held-back line as it is: what follows it is not the build's output."""
        if self._last is not None and self._last[2]:
            line, head, _ = self._last
            self._output(line, head, None)
            self._last = (line, head, False)

    def text(self) -> str:
        """The whole log as saved (Render's lines and the output), for the classifier."""
        return "\n".join(self.all_lines)
