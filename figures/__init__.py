"""Figures regenerated from stored results and the theory catalogue (matplotlib)."""
