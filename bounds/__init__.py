"""Experiments on the simulator held against the theory: result storage, and (to come)
stability pairs, generalisation gaps, scaling fits and sweeps."""
