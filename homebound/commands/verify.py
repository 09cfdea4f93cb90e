"""``homebound verify``: run a check file's stability experiments and test its declared
expectations; exit 0 only if every check holds (1 otherwise, 2 on bad input)."""
from __future__ import annotations

import sys
from pathlib import Path

NAME = "verify"
EXIT_FAILED = 1


def add_parser(sub) -> None:
    parser = sub.add_parser(NAME, help="check declared expectations about stability rates")
    parser.add_argument("checks", nargs="?", default=None,
                        help="a TOML check file (default: the built-in quick suite)")
    parser.add_argument("--junit", metavar="FILE", help="also write the outcomes as JUnit XML")
    parser.add_argument("--quiet", action="store_true", help="no progress lines")


def run(args) -> int:
    from bounds import verify
    from bounds.store import check_output_path, write_text_atomic

    suite = verify.load_suite(args.checks)
    if args.junit:
        check_output_path(Path(args.junit), force=True)
    progress = None if args.quiet else (
        lambda name: print(f"running experiment {name} …", file=sys.stderr, flush=True))
    outcomes = verify.run_checks(suite, progress)
    width = max(len(o.check.name) for o in outcomes)
    for outcome in outcomes:
        status = "PASS" if outcome.passed else "FAIL"
        print(f"{status}  {outcome.check.name:<{width}}  measured {outcome.measured}; "
              f"expected {outcome.expected}  ({outcome.seconds:.1f} s)")
    failed = [o for o in outcomes if not o.passed]
    print(f"{len(outcomes) - len(failed)} of {len(outcomes)} checks hold ({suite.path})")
    if args.junit:
        write_text_atomic(verify.junit_xml(outcomes), args.junit)
    return EXIT_FAILED if failed else 0
