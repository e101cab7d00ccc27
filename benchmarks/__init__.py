"""Benchmarks: how fast the shipped models run, on every backend this machine has.

``digitkit bench`` (cli.py) runs run.py: model latency and throughput per
backend (backends.py, timing.py), cold start in fresh processes
(cold_start.py), the picture -> digit path (pipeline.py), sizes on disk
(models.py), then writes results.json, table.md (report.py) and PNG plots
(plots.py). robustness.py measures the recognizer on foreign handwriting.
"""
