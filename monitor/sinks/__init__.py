"""Notification sinks: one module per integration plus one retrying wrapper.

``base`` holds the contract (a sink builds requests, nothing else), ``retry`` the
only place that sends (classification, backoff with jitter, Retry-After, rate
limits, dead letters), ``config`` the notifiers file.
"""
