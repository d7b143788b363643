"""Benchmarks for slamon; run them from the repository root (``make bench``)."""
