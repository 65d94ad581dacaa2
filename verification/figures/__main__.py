"""``python -m verification.figures negotiation [--out DIR]``: write the negotiation report
(:func:`verification.figures.report.write_negotiation_report`).

The report modules are imported only after the arguments are parsed, so ``--help`` answers
without loading torch (which the amortized runs need).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import verification.figures


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m verification.figures",
        description=verification.figures.__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)
    neg = sub.add_parser("negotiation", help="SVGD / negotiation convergence figures and numbers")
    neg.add_argument(
        "--out",
        type=Path,
        default=Path("results/figures"),
        help="where the pictures and negotiation_numbers.json go (the committed ones are in "
        "docs/figures) (default: results/figures)",
    )
    args = parser.parse_args(argv)
    if args.command == "negotiation":
        from verification.figures.report import write_negotiation_report

        write_negotiation_report(args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
