"""The periodic SLA report (``slamon report``): numbers from the engine, rendered.

``run`` replays the input through the engine with a :class:`recorder.Recorder`
attached as its observer; ``model`` sums what the engine counted inside the
period (no SLA math of its own) and ``credits`` applies the agreement's credit
section; ``render_data`` writes JSON and CSV, ``render_html`` a self-contained
page with inline SVG charts (``svg``) in the agreement's language (``texts``).
The events of a running deployment are read by :mod:`monitor.stream.kafka_source`.
"""
