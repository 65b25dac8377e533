"""Benchmarks of what a user of the explorer feels: startup, results, key latency.

``make bench`` runs ``python -m benchmarks.run``, which launches the real app
headless in fresh processes, times it against plain imports measured in the
same run, and writes benchmarks/RESULTS.md.
"""
