"""Print a numbered command of README.md's first ```bash block, optionally with another preset.

The block holds commands introduced by comments `# 1. ...`, `# 2. ...`; a command is the
non-comment lines after its marker, backslash continuations joined. `--preset P` replaces
`config/quick.yaml` by P (and fails if the command does not name it), nothing else.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

QUICK = "config/quick.yaml"


def first_bash_block(markdown: str) -> list[str]:
    """Lines of the first fenced ```bash block."""
    m = re.search(r"^```bash\n(.*?)^```", markdown, flags=re.S | re.M)
    if not m:
        raise ValueError("README.md has no ```bash block")
    return m.group(1).splitlines()


def numbered_commands(lines: list[str]) -> dict[int, str]:
    """{n: command} of the `# n.` sections of a bash block (continuation lines joined)."""
    commands: dict[int, list[str]] = {}
    current: int | None = None
    for line in lines:
        marker = re.match(r"^#\s*(\d+)\.", line)
        if marker:
            current = int(marker.group(1))
            commands[current] = []
        elif line.strip() and not line.lstrip().startswith("#") and current is not None:
            commands[current].append(line.strip())
    joined = {}
    for n, parts in commands.items():
        text = ""
        for part in parts:
            text += part[:-1].rstrip() + " " if part.endswith("\\") else part + " "
        joined[n] = " ".join(text.split())
    return joined


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("readme", type=Path)
    parser.add_argument("--command", type=int, required=True, help="command number")
    parser.add_argument("--preset", help=f"replace {QUICK} by this preset")
    args = parser.parse_args(argv)
    commands = numbered_commands(first_bash_block(args.readme.read_text()))
    if args.command not in commands or not commands[args.command]:
        print(f"{args.readme}: no command {args.command} in the first bash block", file=sys.stderr)
        return 1
    command = commands[args.command]
    if args.preset:
        if QUICK not in command:
            print(f"command {args.command} does not name {QUICK}: {command}", file=sys.stderr)
            return 1
        command = command.replace(QUICK, args.preset)
    print(command)
    return 0


if __name__ == "__main__":
    sys.exit(main())
