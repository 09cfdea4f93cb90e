"""simulate: the feature-plus-noise data models, the two-layer CNN, the optimiser suite and
the numba training loop (SPEC §1–§5). Depends on nothing else in the project.

Entry points: ``simulate.loading.load_config`` (presets, TOML, ``--set`` overrides),
``simulate.run.train`` / ``train_many`` (a run as a pure function of its config; runs of one
shape batched into one parallel numba call) and ``simulate.optimizers.replay``.
"""
