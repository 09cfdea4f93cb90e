"""The pieces of ``benchmarks/run.py``, one job per module.

- ``cases``: the cases, their step counts, and the problem every baseline sees;
- ``machine``: the machine's description and measured limits, the load monitor, pinning;
- ``homebound_impl``: homebound timed through ``train``, and its step kernels alone;
- ``torch_impl``, ``jax_impl``, ``numpy_impl``: one baseline each (``make(problem, dtype)``);
- ``compare``: baselines' steps/s and the agreement check against homebound;
- ``subprocesses``: the rows measured in subprocesses (sweeps, start-up);
- ``report``: the markdown report and the targets table.
"""
