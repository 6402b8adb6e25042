"""`python -m colorize_lib COMMAND ...`: the library's command line.

python -m colorize_lib colorize PATH... -o OUT_DIR [--run RUN_DIR | --experiment NAME --profile P]
"""

import importlib
import sys

# Command -> module with a `main(argv) -> int`; imported only when run (they load torch).
COMMANDS = {"colorize": "colorize_lib.photos"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        given = f"unknown command {argv[0]!r}; " if argv and argv[0] not in ("-h", "--help") else ""
        print(
            f"usage: python -m colorize_lib COMMAND ...\n{given}commands: {', '.join(COMMANDS)}",
            file=sys.stderr if given or not argv else sys.stdout,
        )
        return 2 if given or not argv else 0
    return importlib.import_module(COMMANDS[argv[0]]).main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
