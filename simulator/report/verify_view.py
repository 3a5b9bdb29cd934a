"""What the console says about `--verify-fix`: each rebuild as it starts, then the verdict with
the whole change (one render.yaml snippet, or one diff) and the fixes tried on the way."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from simulator.diagnose.diagnosis import Fix
from simulator.verify.changes import Change
from simulator.verify.outcome import NO_ACTION, NOT_APPLIED, NOT_NEEDED, STILL_FAILS, Verification

_ATTEMPT_WORDS = {
    "passed": "the build passes",
    "skipped": "skipped",
    "not-applied": "not applied",
    "failed": "still fails",
}


def print_start(
    console: Console, number: int, fix: Fix, change: Change, round_number: int = 1
) -> None:
    """Before a rebuild: which fix, applied how, and the change so far."""
    console.rule("verify fix" if round_number == 1 else f"verify fix, build {round_number}")
    if round_number == 1:
        text = (
            f"Fix {number} ({fix.title}), applied to a copy of the repo (the repo itself is not "
            f"touched) and built again from a cold cache: {change.summary}"
        )
    else:
        text = f"The build got further with fix {number}: extended to {change.summary}, built again"
    console.print(Text(text))


def print_verification(verification: Verification, console: Console) -> None:
    """The verdict: the repo as it is fails, and the change that makes it pass (or why not)."""
    console.print()
    if verification.status == NOT_NEEDED:
        console.print(Text(verification.message, style="bold green"))
        return
    if len(verification.attempts) > 1:
        console.print(Text("Fixes tried:", style="bold"))
        for attempt in verification.attempts:
            words = _ATTEMPT_WORDS.get(attempt.status, attempt.status)
            line = f"  {attempt.number}. {attempt.fix.title}: {words}"
            if attempt.reason:
                line += f" ({attempt.reason})"
            console.print(Text(line))
        console.print()
    if verification.verified:
        assert verification.change is not None
        console.print(Text("✓ " + verification.message, style="bold green"))
        console.print(
            f"The repo as it is fails ({verification.original.outcome}, above). "
            f"This change, fix {verification.fix_number} tried, makes its build pass:"
        )
        console.print(Text(_indent(verification.change.instructions)))
        diff = verification.change.diff()
        if diff:
            console.print()
            console.print(Text(diff.rstrip("\n")))
        return
    console.print(Text("✗ " + verification.message, style="bold red"))
    if verification.hint:
        console.print(f"[bold]fix:[/] {escape(verification.hint)}", soft_wrap=True)
    if verification.status == NO_ACTION:
        console.print("Try the fixes of the diagnosis above by hand.")
    elif verification.change is not None and verification.status in (STILL_FAILS, NOT_APPLIED):
        console.print(f"The change tried: {escape(verification.change.summary)}")


def _indent(text: str) -> str:
    return "\n".join(f"  {line}" for line in text.splitlines())
