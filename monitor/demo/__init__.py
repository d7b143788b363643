"""``slamon demo``: the live main job (embedded broker, simulator, worker, live view)."""

from monitor.demo.runner import DemoOptions, DemoResult, run_demo

__all__ = ["DemoOptions", "DemoResult", "run_demo"]
