"""Build the reports: replay the input through the engine with a recorder attached."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitor.domain.agreement import Agreement
from monitor.domain.engine import DEFAULT_LATENESS, Engine
from monitor.domain.observer import attach
from monitor.replay import ReplayResult, replay
from monitor.reporting.credits import CreditTerms
from monitor.reporting.model import ContractReport, build_contract_report
from monitor.reporting.period import ReportPeriod
from monitor.reporting.recorder import ContractSamples, Recorder
from monitor.reporting.render_data import file_stem, to_json, write_csvs, write_json
from monitor.reporting.render_html import render_html


@dataclass(slots=True)
class ReportRun:
    reports: list[ContractReport]
    replay: ReplayResult
    source: dict[str, Any]

    def documents(self) -> list[dict[str, Any]]:
        return [to_json(report, self.source) for report in self.reports]


def build_reports(
    lines: Iterable[bytes],
    agreements: Sequence[Agreement],
    period_of: Callable[[Agreement], ReportPeriod],
    *,
    terms: CreditTerms | None = None,
    lateness: float = DEFAULT_LATENESS,
    until: float | None = None,
    source: dict[str, Any] | None = None,
    out_of_scope: Collection[str] = (),
) -> ReportRun:
    """One report per agreement over its period; the engine sees the whole input.

    ``out_of_scope`` names the known contracts left out of this run (``--contract``):
    their events are counted as ``out_of_scope`` in the source, not as events of
    unknown contracts.
    """
    periods = {a.contract_id: period_of(a) for a in agreements}
    engine = Engine(agreements, lateness=lateness)
    recorder = Recorder(periods)
    attach(engine, recorder)
    result = replay(lines, agreements, lateness=lateness, until=until, engine=engine)
    attach(engine, None)
    reports = [
        build_contract_report(
            engine.contracts[a.contract_id],
            recorder.contracts.get(a.contract_id, ContractSamples()),
            result.alerts,
            periods[a.contract_id],
            engine.watermark,
            terms or CreditTerms(),
        )
        for a in agreements
    ]
    events = result.report()["events"]
    others = sum(engine.unknown_contracts.counts.get(cid, 0) for cid in set(out_of_scope))
    events["unknown_contract"] -= others
    events["out_of_scope"] = others
    return ReportRun(reports, result, {**(source or {}), "events": events})


def write_outputs(run: ReportRun, out: Path, *, generated_at: datetime | None = None) -> list[Path]:
    """``ID-PERIOD.json``, ``.csv`` (+ ``-daily``, ``-breaches``) and ``.html`` per contract.

    The HTML footer states ``generated_at`` (default: now).
    """
    generated_at = generated_at or datetime.now(UTC)
    out.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for report, document in zip(run.reports, run.documents(), strict=True):
        stem = file_stem(report)
        json_path = out / f"{stem}.json"
        write_json(json_path, document)
        written.append(json_path)
        written.extend(write_csvs(out, stem, document))
        html_path = out / f"{stem}.html"
        html_path.write_text(render_html(report, generated_at=generated_at), "utf-8")
        written.append(html_path)
    return written
