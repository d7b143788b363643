"""The worker process of ``bench.ab``: one revision's ``monitor`` package, replaying on demand.

Run as a script, ``python bench/ab_worker.py TREE EVENTS``, so that nothing of slamon is
imported before the exported revision in TREE is first on the path. Each line ``run``
on standard input replays EVENTS once and answers one JSON line on standard output:
the seconds the replay took, the number of alerts and a digest of them.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def main(tree: str, events: str) -> None:
    sys.path.insert(0, tree)
    from monitor import replay as replay_module
    from monitor.rulespec.loader import load_rules

    if not Path(replay_module.__file__ or "").is_relative_to(tree):
        raise SystemExit(f"monitor was imported from {replay_module.__file__}, not {tree}")
    agreements, _ = load_rules([Path(tree) / "rules"])
    path = Path(events)
    print(json.dumps({"ready": True}), flush=True)
    for command in sys.stdin:
        if command.strip() != "run":
            break
        start = time.perf_counter()
        result = replay_module.replay(replay_module.read_lines(path), agreements)
        seconds = time.perf_counter() - start
        digest = alerts_digest(result.alerts)
        answer = {"seconds": seconds, "alerts": len(result.alerts), "digest": digest}
        print(json.dumps(answer), flush=True)


def alerts_digest(alerts: Sequence[Any]) -> str:
    digest = hashlib.sha256()
    for alert in alerts:
        digest.update(json.dumps(alert.to_json(), sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


if __name__ == "__main__":
    main(*sys.argv[1:3])
