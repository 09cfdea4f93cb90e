"""Result storage: runs as self-describing xarray Datasets in netCDF, written atomically.

A stored run holds its config (as JSON in the ``config`` attribute, so it round-trips), the
logged trajectory over the ``step`` dimension (one variable per metric) with an ``epoch``
coordinate beside it, the per-sample noise memorisation ``noise_memorization (step, sample)``,
the optimiser diagnostics (``diag_<name>``), the last logged value of every metric
(``final_<name>``) and the outcome (``diverged_at``, ``steps_done``).
Several runs stack along one dimension (``seed`` for replicates). Every variable and coordinate
carries CF-style ``long_name`` and ``units`` attributes (:data:`ATTRIBUTES`, :func:`annotate`),
and no variable is named like a config key: the scheduled learning rate, the metric
``simulate.metrics`` calls ``lr``, is stored as ``scheduled_lr`` (:data:`STORED_NAMES`).

Files are written through a temporary file in the target directory and an atomic rename, with
the user's normal permissions (``0666`` less the umask); ``write_atomic(…, replace=False)``
never replaces an existing file. :func:`output_dir` and :func:`check_output_path` check an
output location *before* any work is done (the latter refusing an existing result unless
forced), so a bad path is one :class:`ConfigError` line, not a traceback after training.
"""
from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import xarray as xr

from simulate.fields import ConfigError
from simulate.metrics import METRICS
from simulate.run import RunResult

#: ``simulate.metrics`` name → stored variable name, where the metric's own name is a config key.
STORED_NAMES = {"lr": "scheduled_lr"}

#: CF-style ``(long_name, units)`` of every variable and coordinate the store writes. Every
#: quantity of the model is dimensionless (units ``"1"``); text variables (JSON, keys) have no
#: units. ``final_<name>`` variables take ``<name>``'s entry (see :func:`attributes_of`).
ATTRIBUTES: dict[str, tuple[str, str | None]] = {
    "step": ("training step t (0 = initialisation)", "1"),
    "epoch": ("epochs completed (step / steps per epoch)", "1"),
    "fraction": ("fraction of training completed (step / total steps)", "1"),
    "seed": ("master seed of the run (RunConfig.seed)", "1"),
    "sample": ("training sample index i", "1"),
    "run": ("run key: hash of the run's resolved config", None),
    "train_loss": ("training loss: mean logistic loss, without the L2 term", "1"),
    "train_error": ("training 0-1 error", "1"),
    "test_loss": ("test loss: mean logistic loss on the fresh test set", "1"),
    "test_error": ("test 0-1 error", "1"),
    "gap": ("generalisation gap: test loss minus training loss", "1"),
    "feature_pos": ("feature learning max_r <w_{+1,r}, v/|v|>", "1"),
    "feature_neg": ("feature learning max_r <w_{-1,r}, -v/|v|>", "1"),
    "noise_mean": ("noise memorisation max_r <w_{y_i,r}, xi_i>: mean over training samples", "1"),
    "noise_min": ("noise memorisation max_r <w_{y_i,r}, xi_i>: minimum over training samples", "1"),
    "noise_max": ("noise memorisation max_r <w_{y_i,r}, xi_i>: maximum over training samples", "1"),
    "weight_norm": ("Frobenius norm of the parameters |W|_F (weights and biases)", "1"),
    "scheduled_lr": ("scheduled learning rate eta_t", "1"),
    "noise_memorization": ("noise memorisation max_r <w_{y_i,r}, xi_i> of training sample i", "1"),
    "diag_v_hat_min": ("smallest bias-corrected second moment min_k v_hat_k, mean since the previous row", "1"),
    "diag_v_hat_max": ("largest bias-corrected second moment max_k v_hat_k, mean since the previous row", "1"),
    "diag_rho_hat": ("HomeAdam rho_hat = min_k v_hat_k + eps, mean since the previous row", "1"),
    "diag_home_share": ("HomeAdam share of steps (global rule) or coordinates (element-wise rule) that went home", "1"),
    "diag_alpha": ("DualAdam mixing weight alpha_t, mean since the previous row", "1"),
    "diag_mixed": ("DualAdam share of steps that took the mixed step", "1"),
    "diverged_at": ("step at which the run diverged (-1: it did not)", "1"),
    "steps_done": ("training steps completed", "1"),
    "config": ("resolved run configuration (JSON)", None),
}


def stored_name(metric: str) -> str:
    """The variable name under which ``simulate.metrics`` metric ``metric`` is stored."""
    return STORED_NAMES.get(metric, metric)


STORED_METRICS = tuple(stored_name(name) for name in METRICS)


def attributes_of(name: str, table: Mapping[str, tuple[str, str | None]] = ATTRIBUTES):
    """``(long_name, units)`` of variable ``name``: its table entry, or for ``final_<x>`` the
    entry of ``<x>`` marked as the last logged value; ``None`` if neither exists."""
    if name in table:
        return table[name]
    if name.startswith("final_") and name[len("final_"):] in table:
        long_name, units = table[name[len("final_"):]]
        return f"{long_name}, at the last logged step (the end, or where a diverged run stopped)", units
    return None


def annotate(ds: xr.Dataset, extra: Mapping[str, tuple[str, str | None]] | None = None) -> xr.Dataset:
    """Set CF ``long_name`` (and ``units`` where not ``None``) on every variable and coordinate
    of ``ds`` in place, from :data:`ATTRIBUTES` plus ``extra``; returns ``ds``.

    A variable with no entry is an error (ValueError naming it), so no variable is ever written
    without its description. Attributes already set on a variable are kept.
    """
    table = {**ATTRIBUTES, **(extra or {})}
    for name, variable in ds.variables.items():
        found = attributes_of(str(name), table)
        if found is None:
            raise ValueError(f"no long_name/units for variable {name!r}: add it to "
                             "bounds.store.ATTRIBUTES or pass it in extra")
        long_name, units = found
        variable.attrs.setdefault("long_name", long_name)
        if units is not None:
            variable.attrs.setdefault("units", units)
    return ds


def _epoch(results: Sequence[RunResult], steps: np.ndarray, dim: str):
    """The ``epoch`` coordinate (step / steps per epoch): over ``step`` when every run has
    the same epoch length, else over ``(dim, step)``."""
    per_epoch = np.array([r.config.steps_per_epoch for r in results], dtype=float)
    if np.all(per_epoch == per_epoch[0]):
        return ("step", steps / per_epoch[0])
    return ((dim, "step"), steps[None, :] / per_epoch[:, None])


def stack_runs(results: Sequence[RunResult], dim: str = "seed", labels: Sequence | None = None
               ) -> xr.Dataset:
    """Runs with the same log steps and ``n``, stacked along ``dim`` (labelled by ``labels``,
    by default the runs' seeds), annotated, without attributes.

    Variables: every metric over ``(dim, step)``, ``noise_memorization (dim, step, sample)``,
    the diagnostics (NaN where a run's optimiser has none of that name), ``final_<metric>``
    ``(dim,)`` (the run's last logged state: the end of training, or for a diverged run the
    step it stopped at, ``steps_done``), ``diverged_at`` and ``steps_done``; coordinates
    ``step``, ``sample`` and ``epoch``. A diverged run's rows after it stopped are NaN.
    """
    steps = results[0].config.log_steps()
    R, L, n = len(results), steps.size, results[0].config.data.n
    metrics = np.full((R, L, len(METRICS)), np.nan)
    memorisation = np.full((R, L, n), np.nan)
    names = list(dict.fromkeys(name for r in results for name in r.diagnostic_names))
    diagnostics = np.full((R, L, len(names)), np.nan)
    for i, r in enumerate(results):
        if r.config.data.n != n or not np.array_equal(r.config.log_steps(), steps):
            raise ValueError("stack_runs: every run must log at the same steps on the same n")
        rows = np.isin(r.steps, steps)  # all but a diverged run's closing row
        at = np.searchsorted(steps, r.steps[rows])
        metrics[i, at] = r.metrics[rows]
        memorisation[i, at] = r.memorisation[rows]
        for j, name in enumerate(r.diagnostic_names):
            diagnostics[i, at, names.index(name)] = r.diagnostics[rows, j]
    variables = {name: ((dim, "step"), metrics[:, :, j]) for j, name in enumerate(STORED_METRICS)}
    variables["noise_memorization"] = ((dim, "step", "sample"), memorisation)
    for j, name in enumerate(names):
        variables[f"diag_{name}"] = ((dim, "step"), diagnostics[:, :, j])
    finals = np.array([r.metrics[-1] for r in results])
    for j, name in enumerate(STORED_METRICS):
        variables[f"final_{name}"] = (dim, finals[:, j])
    variables["diverged_at"] = (dim, np.array([-1 if r.diverged_at is None else r.diverged_at
                                               for r in results], dtype=np.int64))
    variables["steps_done"] = (dim, np.array([r.steps_done for r in results], dtype=np.int64))
    labels = [r.config.seed for r in results] if labels is None else list(labels)
    ds = xr.Dataset(variables, coords={dim: labels, "step": steps,
                                       "sample": np.arange(n), "epoch": _epoch(results, steps, dim)})
    return annotate(ds)


def runs_dataset(results: Sequence[RunResult]) -> xr.Dataset:
    """Replicates of one config (differing only in seed) stacked along ``seed``; the
    ``config`` attribute holds their shared config without the seed."""
    ds = stack_runs(results)
    base = results[0].config.to_dict()
    base.pop("seed", None)
    ds.attrs.update(config=json.dumps(base), optimizer=results[0].config.optimizer.name,
                    title="homebound training runs")
    return ds


def run_dataset(result: RunResult) -> xr.Dataset:
    """One run as a Dataset over ``step`` (and ``sample`` for memorisation); its whole config,
    seed included, in the ``config`` attribute."""
    ds = runs_dataset([result]).isel(seed=0)
    ds.attrs.update(config=json.dumps(result.config.to_dict()), seed=result.config.seed,
                    title="homebound training run")
    return ds


def output_dir(path: str | os.PathLike, flag: str = "--out") -> Path:
    """Create directory ``path`` (and parents) if needed and check that files can be created
    in it, before any work is done; a ConfigError names ``flag`` and the reason otherwise."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise ConfigError(f"{flag} {path}: exists and is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = _reserve(path / ".write-check")
        probe.unlink()
    except OSError as err:
        raise ConfigError(f"{flag} {path}: cannot write there ({err.strerror or err})") from None
    return path


def check_output_path(path: str | os.PathLike, force: bool = False, flag: str = "--out") -> Path:
    """Check the result file ``path`` before any work: its directory as :func:`output_dir`
    checks it (created if needed), and an existing file refused (ConfigError, one line)
    unless ``force``."""
    path = Path(path)
    output_dir(path.parent, flag)
    if path.exists() and not force:
        raise ConfigError(f"{flag} {path.parent}: {path} already exists; pass --force to replace it")
    return path


def _reserve(path: Path) -> Path:
    """Create an empty, unique hidden temporary file beside ``path`` (mode 0666 less the
    umask, as any new file of the user's) and return its path."""
    while True:
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
        try:
            os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
            return tmp
        except FileExistsError:
            continue


def is_temporary(path: Path) -> bool:
    """Whether ``path`` is a temporary file left by an interrupted :func:`write_atomic`."""
    return path.name.startswith(".") and path.name.endswith(".tmp")


def write_atomic(ds: xr.Dataset, path: str | os.PathLike, replace: bool = True) -> Path:
    """Write ``ds`` to netCDF at ``path``: into a temporary file beside it, flushed to disk,
    then renamed into place in one step, so a reader (or a process killed midway) sees the
    whole file or none. With ``replace=False`` an existing ``path`` is never replaced
    (FileExistsError, nothing changes), even if it appeared after :func:`check_output_path`."""
    return _write(lambda tmp: ds.to_netcdf(tmp, engine="netcdf4"), Path(path), replace)


def write_text_atomic(text: str, path: str | os.PathLike, replace: bool = True) -> Path:
    """Write UTF-8 ``text`` at ``path`` atomically, as :func:`write_atomic` does."""
    return _write(lambda tmp: tmp.write_text(text, encoding="utf-8"), Path(path), replace)


def _write(fill, path: Path, replace: bool) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _reserve(path)
    try:
        fill(tmp)
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        if replace:
            os.replace(tmp, path)
        else:
            os.link(tmp, path)  # fails if path exists: never replaces
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load(path: str | os.PathLike) -> xr.Dataset:
    """Open a stored result into memory, with its JSON attributes (``config``, ``sweep``)
    parsed back into dicts. ``xr.open_dataset(path)`` opens the same file lazily with the
    attributes as JSON text."""
    ds = xr.load_dataset(path, engine="netcdf4")
    for key in ("config", "sweep"):
        if key in ds.attrs:
            ds.attrs[key] = json.loads(ds.attrs[key])
    return ds

