"""Sweeps: a grid of runs from one TOML file, batched, run in-process or on dask.distributed,
stored resumably and gathered into one netCDF file.

Modules, one job each: :mod:`.spec` (the sweep file), :mod:`.grid` (expansion into validated
configs and their keys), :mod:`.batches` (runs of one shape into one ``train_many`` task),
:mod:`.tasks` (a task as plain data and the worker function), :mod:`.executors` (in-process,
dask), :mod:`.runstore` (the resumable result directory), :mod:`.gather` (``sweep.nc``) and
:mod:`.runner` (all of it in order).

```python
from bounds.sweep import load_sweep, expand, run_sweep
plan = expand(load_sweep("sweeps/batch_size.toml"))   # every point validated
report = run_sweep(plan, "results/bs")                # in-process; resumable
```
"""
from .batches import DEFAULT_MAX_RUNS, batches
from .executors import open_executor
from .gather import gather
from .grid import Plan, PlannedRun, expand, run_key
from .runner import SweepReport, run_sweep
from .runstore import RunStore
from .spec import Axis, Sweep, load_sweep, parse_sweep

__all__ = ["Axis", "DEFAULT_MAX_RUNS", "Plan", "PlannedRun", "RunStore", "Sweep", "SweepReport",
           "batches", "expand", "gather", "load_sweep", "open_executor", "parse_sweep",
           "run_key", "run_sweep"]
