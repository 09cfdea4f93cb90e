"""Gather a sweep's finished runs into one Dataset, ``sweep.nc``, over the grid axes and seed.

Dimensions: the sweep's axes in file order (each named by its first dotted config key; a
zipped axis' other keys are coordinates along it), then ``seed``, then the trajectory axis:

- ``step`` when every run logs at the same steps: trajectories exactly as stored, with an
  ``epoch`` coordinate beside it (over the axes that change the epoch length);
- ``fraction`` (of training, 0 … 1, as many points as the longest run logs rows) when runs
  log at different steps: each run's trajectory is interpolated linearly in the step from its
  logged rows, which is exact wherever the common grid meets a logged step (at 0 and 1
  always, everywhere when the runs log at the same fractions); ``step`` and ``epoch`` are
  coordinates over the axes that change them.

``final_<metric>`` (each run's last logged values) are always exact. Per run also:
``status`` (flags done / diverged / failed / missing), ``diverged_at``, ``steps_done``,
``run_key`` (its batch file holds the per-sample noise memorisation, which sweep.nc leaves
out since its size grows with ``n``) and ``config`` (JSON). Runs without results are NaN
(−1 in the integer variables).
"""
from __future__ import annotations

import json

import numpy as np
import xarray as xr

from bounds.store import STORED_METRICS, annotate

from .grid import Plan
from .runstore import STATES, RunStore, read_batch, state_of
from .spec import dotted


def coordinate_values(values) -> np.ndarray:
    """An axis' values as a netCDF-friendly array: bool, int, float or str as they are,
    anything else (lists such as ``betas``, mixed types) as JSON text."""
    if all(isinstance(v, bool) for v in values):
        return np.array(values, dtype=bool)
    numbers = [isinstance(v, (int, float)) and not isinstance(v, bool) for v in values]
    if all(numbers):
        kind = np.int64 if all(isinstance(v, int) for v in values) else np.float64
        return np.array(values, dtype=kind)
    if all(isinstance(v, str) for v in values):
        return np.array(values, dtype=str)
    return np.array([json.dumps(v) for v in values], dtype=str)


def fraction_targets(steps: np.ndarray, fraction: np.ndarray) -> np.ndarray:
    """Steps ``fraction · T`` of a run logging at ``steps`` (``T = steps[-1]``), snapped to a
    logged step when within rounding of it."""
    total = float(steps[-1])
    target = fraction * total
    nearest = steps[np.abs(steps[None, :] - target[:, None]).argmin(axis=1)]
    return np.where(np.abs(nearest - target) <= 1e-9 * max(total, 1.0), nearest, target)


def _squeezed(values: np.ndarray, dims: tuple[str, ...]):
    """``(dims, values)`` without the leading dims along which ``values`` is constant."""
    kept = list(dims)
    for axis in reversed(range(len(dims) - 1)):
        first = np.take(values, [0], axis=axis)
        if np.array_equal(values, np.broadcast_to(first, values.shape), equal_nan=True):
            values = np.take(values, 0, axis=axis)
            del kept[axis]
    return tuple(kept), values


def _stored_rows(plan: Plan, stored: dict) -> dict[str, dict]:
    """Key → {variable: values along ``step``, or a scalar} from the batch files."""
    wanted = plan.unique()
    rows = {}
    for path in sorted({stored[key][0] for key in wanted if key in stored}):
        arrays = read_batch(path)
        del arrays["noise_memorization"]
        for i, key in enumerate(arrays.pop("run").tolist()):
            if key in wanted and key not in rows:
                rows[key] = {name: values[i] for name, values in arrays.items()}
    return rows


def _axis_coordinates(plan: Plan) -> tuple[dict, dict]:
    """The grid axes' coordinates (every key of each axis along its dimension) and their
    ``(long_name, units)`` entries for :func:`bounds.store.annotate`."""
    coords, attributes = {}, {}
    for axis in plan.sweep.axes:
        for key, values in zip(axis.keys, axis.values):
            values = coordinate_values(values)
            coords[dotted(key)] = (axis.name, values)
            attributes[dotted(key)] = (f"config value {dotted(key)}",
                                       "1" if values.dtype.kind in "iuf" else None)
    return coords, attributes


def gather(plan: Plan, store: RunStore) -> xr.Dataset:
    """The sweep's Dataset (see the module docstring) from the runs in ``store``."""
    stored, failures = store.stored(), store.failures()
    rows = _stored_rows(plan, stored)
    dims, shape = plan.dims, plan.shape
    steps = {run.key: run.config.log_steps() for run in plan.runs}
    first = next(iter(steps.values()))
    same = all(np.array_equal(s, first) for s in steps.values())
    length = max(s.size for s in steps.values())
    axis, grid = ("step", first) if same else ("fraction", np.linspace(0.0, 1.0, length))
    names = [*STORED_METRICS, *sorted({n for r in rows.values() for n in r if n.startswith("diag_")})]
    trajectories = {name: np.full((*shape, grid.size), np.nan) for name in names}
    scalars = {**{f"final_{name}": np.full(shape, np.nan) for name in STORED_METRICS},
               **{name: np.full(shape, -1, dtype=np.int64) for name in ("diverged_at", "steps_done")}}
    status = np.full(shape, STATES.index("missing"), dtype=np.int8)
    run_key = np.empty(shape, dtype=object)
    config = np.empty(shape, dtype=object)
    at_step = np.empty((*shape, grid.size))
    epoch = np.empty((*shape, grid.size))
    for run in plan.runs:
        cell, cfg = run.index, run.config
        run_key[cell], config[cell] = run.key, json.dumps(cfg.to_dict())
        status[cell] = STATES.index(state_of(run.key, stored, failures))
        at_step[cell] = grid if same else fraction_targets(steps[run.key], grid)
        epoch[cell] = at_step[cell] / cfg.steps_per_epoch
        row = rows.get(run.key)
        if row is None:
            continue
        logged = steps[run.key] <= row["steps_done"]
        for name in names:
            if name not in row:
                continue
            trajectories[name][cell] = row[name] if same else np.interp(
                at_step[cell], steps[run.key][logged], row[name][logged], left=np.nan, right=np.nan)
        for name, values in scalars.items():
            values[cell] = row[name]
    full = (*dims, axis)
    variables = {name: (full, values) for name, values in trajectories.items()}
    variables.update({name: (dims, values) for name, values in scalars.items()})
    variables["status"] = (dims, status, {"flag_values": np.arange(len(STATES), dtype=np.int8),
                                          "flag_meanings": " ".join(STATES)})
    variables["run_key"] = (dims, run_key.astype(str))
    variables["config"] = (dims, config.astype(str))
    coords, extra = _axis_coordinates(plan)
    coords.update({axis: grid, "seed": np.array(plan.seeds, dtype=np.int64),
                   "epoch": _squeezed(epoch, full)})
    if not same:
        coords["step"] = _squeezed(at_step, full)
    extra.update(status=("run outcome", None),
                 run_key=("run key: hash of the run's resolved config (labels it in runs/*.nc)", None))
    ds = xr.Dataset(variables, coords=coords)
    ds.attrs.update(title="homebound sweep", sweep=json.dumps(plan.sweep.to_dict()),
                    trajectory_axis=axis)
    return annotate(ds, extra)
