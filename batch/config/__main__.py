"""`python -m batch.config --markdown`: print the README's config table from the model."""

from __future__ import annotations

import argparse
from pathlib import Path

from batch.config.markdown import table, write_readme


def main() -> None:
    """Print the table (`--markdown`) or write it into a README (`--write-readme PATH`)."""
    parser = argparse.ArgumentParser(prog="python -m batch.config", description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print the config table")
    parser.add_argument("--write-readme", type=Path, metavar="PATH", help="update its table")
    args = parser.parse_args()
    if args.write_readme:
        write_readme(args.write_readme)
    elif args.markdown:
        print(table(), end="")
    else:
        parser.print_help()


if __name__ == "__main__":
    main()
