"""`python -m simulator.cli.github_action REPORT [--junit FILE]`: the Action's step outputs.

action.yml runs this after render-sim, with the `--json` report it saved: it prints
`outcome=...` and `class=...` lines for `$GITHUB_OUTPUT` (simulator.report.action_outputs) and,
with `--junit`, writes JUnit XML for `simulate` and `check`. Not a render-sim command: it only
serves the Action, so the Action's outputs come from the same code as the tool's version.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from simulator.report.action_outputs import junit_tree, outputs, read_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m simulator.cli.github_action")
    parser.add_argument("report", type=Path, help="the file render-sim's --json went to")
    parser.add_argument("--junit", type=Path, help="write JUnit XML of the report here")
    args = parser.parse_args(argv)
    report = read_report(args.report)
    for name, value in outputs(report).items():
        print(f"{name}={value}")
    if args.junit is not None:
        args.junit.parent.mkdir(parents=True, exist_ok=True)
        junit_tree(report or {}).write(args.junit, encoding="utf-8", xml_declaration=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
