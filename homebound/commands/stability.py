"""``homebound stability``: coupled runs on neighbouring data sets over a grid of ``n``, the
fitted rates against the bounds (SPEC §6, §7)."""
from __future__ import annotations

import json
import math
import sys
from pathlib import Path

from simulate.fields import ConfigError

from ..arguments import add_config_arguments
from ..output import jsonable, progress_bar

NAME = "stability"


def add_parser(sub) -> None:
    parser = sub.add_parser(NAME, help="algorithmic stability on neighbouring data sets over n")
    add_config_arguments(parser, default="convex")
    parser.add_argument("--optimizers", default="sgd", metavar="LIST",
                        help="comma-separated NAME[:KEY=VALUE…]; 'momentum' = sgd with momentum "
                             "0.9; a bare homeadam(w) runs both rules (default: sgd)")
    parser.add_argument("--n", default="50,100,200,400,800", metavar="LIST",
                        help="training-set sizes (default: 50,100,200,400,800)")
    parser.add_argument("--pairs", default="32", metavar="K",
                        help="coupled pairs per n and optimiser (default: 32)")
    parser.add_argument("--bootstrap", default="2000", metavar="B",
                        help="bootstrap resamples for the exponent intervals (default: 2000)")
    parser.add_argument("--identical", action="store_true",
                        help="S′ = S (no replacement): a control that must give δ_t = 0")
    parser.add_argument("--decouple-batches", action="store_true",
                        help="give S′ an independent batch order (a control)")
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--out", metavar="DIR", help="write the dataset as DIR/stability.nc")
    parser.add_argument("--force", action="store_true", help="replace an existing DIR/stability.nc")
    parser.add_argument("--quiet", action="store_true", help="no progress output")


def _integer(flag: str, text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"{flag} {text}: must be an integer") from None


def _sizes(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--n {text}: must be comma-separated integers ≥ 2") from None


def run(args) -> int:
    from bounds import stability
    from bounds.store import check_output_path, write_atomic

    bootstrap = _integer("--bootstrap", args.bootstrap)
    if bootstrap < 1:
        raise ConfigError(f"--bootstrap {bootstrap}: must be an integer ≥ 1")
    plan = stability.design(args.config, args.optimizers, _sizes(args.n),
                            _integer("--pairs", args.pairs),
                            args.overrides, replace_sample=not args.identical,
                            couple_batch_order=not args.decouple_batches)
    target = Path(args.out) / "stability.nc" if args.out else None
    if target is not None:
        check_output_path(target, force=args.force)
    bar = progress_bar(stability.total_steps(plan), args.quiet)
    try:
        result = stability.execute(plan, bar.update if bar is not None else None)
    finally:
        if bar is not None:
            bar.close()
    if target is not None:
        write_atomic(result.dataset, target)
    report = result.report(bootstrap)
    for name in report["optimizers"]:
        report["optimizers"][name]["calibration"] = result.calibration(name)
    for warning in report["warnings"]:
        print(f"homebound: warning: {warning}", file=sys.stderr)
    if args.json:
        print(json.dumps(jsonable(report)))
        return 0
    _print_table(args.config, result, report)
    if target is not None:
        print(f"wrote {target}")
    return 0


def _number(value) -> str:
    return "–" if value is None or not math.isfinite(value) else f"{value:.3g}"


def _interval(fit: dict) -> str:
    if fit["exponent"] is None:
        return "not fitted"
    ci = fit["ci"]
    return f"{fit['exponent']:+.2f} [{ci[0]:+.2f}, {ci[1]:+.2f}]" if ci else f"{fit['exponent']:+.2f}"


def _print_table(source: str, result, report: dict) -> None:
    n = report["n"]
    print(f"{source}: {report['steps_note']}; {report['pairs']} pairs per n; "
          f"{result.seconds:.1f} s")
    print("T/n = " + ", ".join(f"{v:.3g}" for v in report["steps_over_n"])
          + "; expected draws of the replaced sample per pair T·B/n = "
          + ", ".join(f"{v:.3g}" for v in report["draws_per_pair"]))
    head = f"{'optimizer':<24} {'quantity':<9} " + " ".join(f"{'n=' + str(s):>9}" for s in n)
    print(head + f"  {'exponent [95% CI]':<22} {'theory':>6}  verdict")
    for label, item in report["optimizers"].items():
        for quantity in ("delta_T", "loss_gap", "gen_gap"):
            means = " ".join(f"{_number(v):>9}" for v in item[quantity]["mean"])
            fit = item["fit"].get(quantity)
            tail = ""
            if fit is not None:
                theory = _number(fit["theory_exponent"])
                tail = f"  {_interval(fit):<22} {theory:>6}  {fit['verdict']}"
            print(f"{label if quantity == 'delta_T' else '':<24} {quantity:<9} {means}{tail}")
        extra = []
        if "home_share" in item:
            extra.append(f"home share {item['home_share']:.3f}")
        if any(item["diverged_pairs"]):
            extra.append("diverged pairs per n " + ",".join(map(str, item["diverged_pairs"])))
        if item["bound_note"]:
            extra.append(item["bound_note"])
        calibration = item.get("calibration", {})
        if calibration.get("mode") == "evaluated":
            ratios = ", ".join(f"{r:.2g}" for r in calibration["ratios"])
            extra.append(f"Hardt bound {calibration['verdict']}: measured/bound = {ratios}")
        if extra:
            print(f"{'':<24} " + "; ".join(extra))
