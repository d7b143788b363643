"""Kafka and Faust wiring: publishing event files, the Faust app and its agents.

Thin adapters around the pure engine in :mod:`monitor.domain`; nothing here
decides what an event means.
"""
