"""Result storage: runs as self-describing xarray Datasets in netCDF, written atomically.

A stored run holds its config (as JSON in the ``config`` attribute, so it round-trips), the
logged trajectory over the ``step`` dimension (one variable per metric), the per-sample noise
memorisation ``noise_memorization (step, sample)``, the optimiser diagnostics, and the outcome
(``diverged_at``, ``steps_done``). Several replicates stack along a ``seed`` dimension.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Sequence

import xarray as xr

from simulate.fields import ConfigError
from simulate.metrics import METRICS
from simulate.run import RunResult


def run_dataset(result: RunResult) -> xr.Dataset:
    """One run as a Dataset over ``step`` (and ``sample`` for memorisation)."""
    variables = {name: ("step", result.metrics[:, j]) for j, name in enumerate(METRICS)}
    variables["noise_memorization"] = (("step", "sample"), result.memorisation)
    for j, name in enumerate(result.diagnostic_names):
        variables[f"diag_{name}"] = ("step", result.diagnostics[:, j])
    ds = xr.Dataset(variables, coords={"step": result.steps})
    ds.attrs.update(
        config=json.dumps(result.config.to_dict()),
        seed=result.config.seed,
        optimizer=result.config.optimizer.name,
        diverged_at=-1 if result.diverged_at is None else result.diverged_at,
        steps_done=result.steps_done,
        title="homebound training run",
    )
    return ds


def runs_dataset(results: Sequence[RunResult]) -> xr.Dataset:
    """Replicates stacked along ``seed`` (runs of one config that differ only in seed)."""
    sets = [run_dataset(r) for r in results]
    combined = xr.concat(sets, dim="seed", join="outer", combine_attrs="drop")
    combined = combined.assign_coords(seed=[r.config.seed for r in results])
    combined["diverged_at"] = ("seed", [s.attrs["diverged_at"] for s in sets])
    combined["steps_done"] = ("seed", [s.attrs["steps_done"] for s in sets])
    base = results[0].config.to_dict()
    base.pop("seed", None)
    combined.attrs.update(config=json.dumps(base), optimizer=results[0].config.optimizer.name,
                          title="homebound training runs")
    return combined


def write_atomic(ds: xr.Dataset, path: str | os.PathLike) -> Path:
    """Write ``ds`` to netCDF at ``path`` via a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        ds.to_netcdf(tmp, engine="netcdf4")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load(path: str | os.PathLike) -> xr.Dataset:
    """Open a stored run; its ``config`` attribute is parsed back into a dict."""
    ds = xr.load_dataset(path, engine="netcdf4")
    ds.attrs["config"] = json.loads(ds.attrs["config"])
    return ds


def check_output_path(path: str | os.PathLike, force: bool = False) -> Path:
    """Fail early, before any training, if ``path`` cannot be written or already exists
    (an existing result is replaced only with ``force``): ``ConfigError``, one line."""
    path = Path(path)
    if path.exists() and not force:
        raise ConfigError(f"--out {path.parent}: {path.name} exists; pass --force to replace it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".probe", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as err:
        raise ConfigError(f"--out {path.parent}: cannot write there ({err.strerror})") from None
    return path


def write_text_atomic(text: str, path: str | os.PathLike) -> Path:
    """Write ``text`` to ``path`` via a temporary file and an atomic rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
