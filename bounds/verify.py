"""Declared expectations about stability experiments, checked: ``homebound verify``.

A check file (TOML) declares experiments and checks::

    [experiments.sgd_batch1]            # a name, then the arguments of ``stability.run``
    config = "convex"
    set = ["train.batch_size=1", "train.steps=100"]
    optimizers = ["sgd"]
    n = [100, 200, 400, 800, 1600]
    pairs = 100

    [[checks]]
    name = "sgd on convex: exponent of δ_T in n ≤ −0.8"
    experiment = "sgd_batch1"
    optimizer = "sgd"
    kind = "exponent"
    quantity = "delta_T"
    at_most = -0.8

Kinds of check (``optimizer`` is an entry label of the experiment):

- ``exponent``: the fitted exponent of ``quantity`` in ``n`` is ``≤ at_most`` and/or
  ``≥ at_least``; ``on = "estimate"`` (default) tests the point estimate, ``on = "interval"``
  the whole bootstrap interval;
- ``verdict``: the rate verdict of ``quantity`` is one of ``allowed``;
- ``hardt``: Hardt et al.'s convex bound, evaluated with the experiment's data, holds at
  every ``n`` (``bounds.hardt``);
- ``growth``: the exponent of the pair distance ``δ_t`` in the step ``t`` (over the logged
  steps, at ``n``, default the largest) is ``≥ at_least`` (default 0: it grows), with the
  premise ``rho_hat_below``: the runs' mean ``ρ̂ = min v̂ + ε`` must lie below it, or the
  check fails with "premise not met";
- ``home_share``: the optimiser's mean home share is ``≥ at_least`` and/or ``≤ at_most``.

Every experiment runs once, however many checks read it. A check passes or fails; nothing
is skipped. ``run_checks`` returns the outcomes; ``junit_xml`` writes them as JUnit XML.
"""
from __future__ import annotations

import math
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Callable, Optional

from simulate.fields import ConfigError
from simulate.loading import read_toml
from theory import VERDICTS, fit_power_law

from . import stability

QUICK_SUITE = "quick.toml"
EXPERIMENT_KEYS = {"config": str, "set": list, "optimizers": list, "n": list, "pairs": int}
CHECK_KEYS = {"name", "experiment", "optimizer", "kind", "quantity", "at_most", "at_least", "on",
              "allowed", "n", "rho_hat_below"}
KINDS = ("exponent", "verdict", "hardt", "growth", "home_share")


@dataclass(frozen=True)
class Check:
    """One declared expectation (see the module doc)."""

    name: str
    experiment: str
    optimizer: str
    kind: str
    settings: dict


@dataclass(frozen=True)
class Outcome:
    """A check's result: passed or not, what was measured and what was expected."""

    check: Check
    passed: bool
    measured: str
    expected: str
    seconds: float


@dataclass(frozen=True)
class Suite:
    path: str
    experiments: dict  # name -> stability.Design
    checks: tuple


def quick_suite_path() -> Path:
    """The built-in quick suite shipped with the package."""
    return Path(str(resources.files("bounds") / "checks" / QUICK_SUITE))


def load_suite(path: Optional[str | Path] = None) -> Suite:
    """Parse and validate a check file (the quick suite when ``path`` is None); every
    experiment is designed (so validated) before anything runs."""
    path = quick_suite_path() if path is None else Path(path)
    tree = read_toml(path, "checks")
    unknown = set(tree) - {"experiments", "checks"}
    if unknown:
        raise ConfigError(f"{sorted(unknown)[0]}: unknown key; allowed keys are experiments, checks")
    experiments = {name: _experiment(name, table)
                   for name, table in tree.get("experiments", {}).items()}
    checks = tuple(_check(i, table, experiments) for i, table in enumerate(tree.get("checks", [])))
    if not checks:
        raise ConfigError(f"checks = {str(path)!r}: declares no [[checks]]")
    return Suite(str(path), experiments, checks)


def _experiment(name: str, table: dict) -> stability.Design:
    for key, value in table.items():
        kind = EXPERIMENT_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"experiments.{name}.{key}: unknown key; allowed keys are "
                              f"{', '.join(EXPERIMENT_KEYS)}")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"experiments.{name}.{key} = {value!r}: must be a {kind.__name__}")
    try:
        return stability.design(table.get("config", "convex"), table.get("optimizers", ["sgd"]),
                                table.get("n", (50, 100, 200, 400, 800)), table.get("pairs", 32),
                                table.get("set", ()))
    except ConfigError as err:
        raise ConfigError(f"experiments.{name}: {err}") from None


def _check(index: int, table: dict, experiments: dict) -> Check:
    where = f"checks[{index}]"
    unknown = set(table) - CHECK_KEYS
    if unknown:
        raise ConfigError(f"{where}.{sorted(unknown)[0]}: unknown key; allowed keys are "
                          f"{', '.join(sorted(CHECK_KEYS))}")
    for key in ("name", "experiment", "optimizer", "kind"):
        if not isinstance(table.get(key), str):
            raise ConfigError(f"{where}.{key}: required, a string")
    name, experiment, kind = table["name"], table["experiment"], table["kind"]
    if experiment not in experiments:
        raise ConfigError(f"{where}.experiment = {experiment!r}: no such experiment; declared: "
                          f"{', '.join(experiments) or 'none'}")
    labels = [entry.label for entry in experiments[experiment].entries]
    if table["optimizer"] not in labels:
        raise ConfigError(f"{where}.optimizer = {table['optimizer']!r}: not in experiment "
                          f"{experiment}; its optimisers are {', '.join(labels)}")
    if kind not in KINDS:
        raise ConfigError(f"{where}.kind = {kind!r}: allowed: {', '.join(KINDS)}")
    settings = {k: v for k, v in table.items() if k not in ("name", "experiment", "optimizer", "kind")}
    quantity = settings.get("quantity", "delta_T")
    if quantity not in stability.QUANTITIES:
        raise ConfigError(f"{where}.quantity = {quantity!r}: allowed: "
                          f"{', '.join(stability.QUANTITIES)}")
    for key in ("at_most", "at_least", "rho_hat_below"):
        if key in settings and (isinstance(settings[key], bool)
                                or not isinstance(settings[key], (int, float))):
            raise ConfigError(f"{where}.{key} = {settings[key]!r}: must be a number")
    if kind in ("exponent", "home_share") and not ({"at_most", "at_least"} & set(settings)):
        raise ConfigError(f"{where}: kind {kind!r} needs at_most and/or at_least")
    if settings.get("on", "estimate") not in ("estimate", "interval"):
        raise ConfigError(f"{where}.on = {settings['on']!r}: allowed: 'estimate', 'interval'")
    if kind == "verdict":
        allowed = settings.get("allowed")
        if not isinstance(allowed, list) or not allowed or any(v not in VERDICTS for v in allowed):
            raise ConfigError(f"{where}.allowed: a non-empty list of verdicts from: "
                              f"{'; '.join(VERDICTS)}")
    if kind == "growth" and "n" in settings and settings["n"] not in experiments[experiment].n:
        raise ConfigError(f"{where}.n = {settings['n']!r}: not in the experiment's n grid")
    return Check(name, experiment, table["optimizer"], kind, settings)


def _bounds_text(settings: dict) -> str:
    parts = []
    if "at_least" in settings:
        parts.append(f"≥ {settings['at_least']:g}")
    if "at_most" in settings:
        parts.append(f"≤ {settings['at_most']:g}")
    return " and ".join(parts)


def _within(values, settings: dict) -> bool:
    """Whether every value meets the check's ``at_least`` / ``at_most``."""
    return all((settings.get("at_least", -math.inf) <= v <= settings.get("at_most", math.inf))
               for v in values)


def _exponent(check: Check, result: stability.StabilityResult) -> tuple[bool, str, str]:
    settings = check.settings
    fit = result.fit(settings.get("quantity", "delta_T"))[check.optimizer]
    on = settings.get("on", "estimate")
    expected = f"{on} {_bounds_text(settings)}"
    if fit.interval is None:
        return False, f"not fitted ({fit.excluded})", expected
    measured = (f"{fit.exponent:+.3f} [{fit.interval[0]:+.3f}, {fit.interval[1]:+.3f}], "
                f"T/n {min(fit.steps_over_n.values()):.3g}–{max(fit.steps_over_n.values()):.3g}")
    values = [fit.exponent] if on == "estimate" else list(fit.interval)
    return _within(values, settings), measured, expected


def _verdict(check: Check, result: stability.StabilityResult) -> tuple[bool, str, str]:
    settings = check.settings
    fit = result.fit(settings.get("quantity", "delta_T"))[check.optimizer]
    interval = "–" if fit.interval is None else f"[{fit.interval[0]:+.3f}, {fit.interval[1]:+.3f}]"
    measured = f"{fit.verdict} ({interval} vs {fit.theory_exponent})"
    return fit.verdict in settings["allowed"], measured, " or ".join(settings["allowed"])


def _hardt(check: Check, result: stability.StabilityResult) -> tuple[bool, str, str]:
    outcome = result.hardt(check.optimizer)
    ratios = ", ".join(f"{r:.2g}" for r in outcome.ratios)
    premise = "" if outcome.step_condition else "; step-size premise α ≤ 2/β not met"
    return outcome.holds, f"measured/bound = {ratios}{premise}", "measured ≤ bound at every n"


def _growth(check: Check, result: stability.StabilityResult) -> tuple[bool, str, str]:
    settings = check.settings
    size = settings.get("n", result.design.n[-1])
    ds = result.dataset.sel(optimizer=check.optimizer, n=size)
    at_least = settings.get("at_least", 0.0)
    expected = f"exponent of δ_t in t ≥ {at_least:g}"
    if "rho_hat_below" in settings:
        rho = float(ds.rho_hat.mean())
        expected += f", when ρ̂ < {settings['rho_hat_below']:g}"
        if not rho < settings["rho_hat_below"]:
            return False, f"premise not met: ρ̂ = {rho:.3g}", expected
    kept = ~ds.diverged.values
    delta = ds.delta.values[kept]
    steps = ds.step.values
    groups = {int(t): delta[:, j] for j, t in enumerate(steps) if t > 0}
    fit = fit_power_law(groups, seed=result.design.base.seed)
    if fit.interval is None:
        return False, f"not fitted ({fit.excluded})", expected
    measured = f"{fit.exponent:+.3f} [{fit.interval[0]:+.3f}, {fit.interval[1]:+.3f}] at n = {size}"
    values = [fit.exponent] if settings.get("on", "estimate") == "estimate" else list(fit.interval)
    return all(v >= at_least for v in values), measured, expected


def _home_share(check: Check, result: stability.StabilityResult) -> tuple[bool, str, str]:
    share = result.home_share().get(check.optimizer)
    if share is None:
        return False, "no home share logged (not a HomeAdam entry)", _bounds_text(check.settings)
    return _within([share], check.settings), f"{share:.4f}", _bounds_text(check.settings)


EVALUATE: dict[str, Callable] = {"exponent": _exponent, "verdict": _verdict, "hardt": _hardt,
                                 "growth": _growth, "home_share": _home_share}


def run_checks(suite: Suite, progress: Callable[[str], None] | None = None) -> list[Outcome]:
    """Run every experiment the checks read (once each) and evaluate every check."""
    results, seconds = {}, {}
    outcomes = []
    for check in suite.checks:
        if check.experiment not in results:
            if progress is not None:
                progress(check.experiment)
            started = time.perf_counter()
            results[check.experiment] = stability.execute(suite.experiments[check.experiment])
            seconds[check.experiment] = time.perf_counter() - started
            spent = seconds[check.experiment]
        else:
            spent = 0.0
        started = time.perf_counter()
        passed, measured, expected = EVALUATE[check.kind](check, results[check.experiment])
        outcomes.append(Outcome(check, bool(passed), measured, expected,
                                spent + time.perf_counter() - started))
    return outcomes


def junit_xml(outcomes: list[Outcome], suite_name: str = "homebound verify") -> str:
    """The outcomes as a JUnit XML document (one ``testcase`` per check)."""
    failures = sum(not o.passed for o in outcomes)
    root = ET.Element("testsuite", name=suite_name, tests=str(len(outcomes)),
                      failures=str(failures), errors="0",
                      time=f"{sum(o.seconds for o in outcomes):.3f}")
    for outcome in outcomes:
        case = ET.SubElement(root, "testcase", classname=outcome.check.experiment,
                             name=outcome.check.name, time=f"{outcome.seconds:.3f}")
        ET.SubElement(case, "system-out").text = f"measured: {outcome.measured}"
        if not outcome.passed:
            failure = ET.SubElement(case, "failure", message=f"expected {outcome.expected}; "
                                                             f"measured {outcome.measured}")
            failure.text = f"{outcome.check.kind} check on {outcome.check.optimizer}"
    return ET.tostring(root, encoding="unicode", xml_declaration=True)

