"""The pure core: events, calendars, clocks, aggregates, objectives and alerts.

Nothing here imports Kafka, Faust, HTTP clients or reads the clock; time is
always passed in (epoch seconds, UTC). tests/unit/domain/test_domain_purity.py keeps it so.
"""
