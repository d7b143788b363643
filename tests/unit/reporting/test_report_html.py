"""The HTML page a customer receives: its footer, its words in Chinese, its units."""

from __future__ import annotations

import ast
import json
import re
from html import unescape
from pathlib import Path
from typing import get_args

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.domain.agreement import ALL_KINDS
from monitor.reporting import render_html, svg
from monitor.reporting.credits import CreditStatus
from monitor.reporting.texts import ZH, kind_name
from tests.unit.test_report_cli import EVENTS, RULES

#: The calls whose first argument is English text to translate (``head``: every argument).
TEXT_CALLS = frozenset({"t", "html", "heading", "h2", "head", "words"})
ENGLISH_WORDS = re.compile(
    r"\b(met|missed|no data|owed|not owed|not measured|partial period|Provisional|samples|"
    r"target|Total|capped|monthly fee|open|ongoing|down|objective|queue|deadline|"
    r"generated|Agreement|period|Every number)\b"
)
OTHER_RULES = """\
version: slamon/v1
contract: other
title: Other
objectives:
  - {id: csat, kind: satisfaction, satisfied_min_score: 4, target: ">= 90%", window: 7d}
"""


def _english_texts() -> set[str]:
    """Every string literal the page and its charts pass to their translating helpers."""
    found: set[str] = set()
    for module in (render_html, svg):
        found |= _texts_in(ast.parse(Path(module.__file__ or "").read_text("utf-8")))
    return found


def _texts_in(tree: ast.AST) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name not in TEXT_CALLS:
            continue
        names = node.args if name == "head" else node.args[:1]
        for arg in names:
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str) and arg.value:
                found.add(arg.value.removeprefix("#"))
    return found


def test_every_text_of_the_page_has_a_chinese_translation() -> None:
    texts = _english_texts()
    assert {"Total owed", "samples", "no calls", "{count} calls"} <= texts  # the scan works
    assert sorted(texts - ZH.keys()) == []


def test_every_objective_kind_service_status_and_credit_status_has_a_chinese_name() -> None:
    services = {"up", "down", "degraded"}
    words = {kind_name(kind) for kind in ALL_KINDS} | set(get_args(CreditStatus)) | services
    assert sorted(words - ZH.keys()) == []


def _for(contract: str, lines: list[str]) -> list[str]:
    """The same events for another contract, with their own event ids."""
    events = [json.loads(line) for line in lines]
    return [
        json.dumps(e | {"contract_id": contract, "event_id": f"{contract}-{e['event_id']}"})
        for e in events
    ]


def _report(tmp_path: Path, rules_text: str, *args: str, extra: list[str] | None = None) -> Path:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "acme.yaml").write_text(rules_text, encoding="utf-8")
    (rules / "other.yaml").write_text(OTHER_RULES, encoding="utf-8")
    events = [*EVENTS, *(extra or [])]
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(events) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(
        app,
        [
            "report",
            str(path),
            "--rules",
            str(rules),
            "--out",
            str(out),
            "--contract",
            "acme",
            *args,
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def _visible_text(page: str) -> str:
    body = re.sub(r"<(style|title)>.*?</\1>", "", page, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", body))


def _footer(page: str) -> str:
    match = re.search(r"<footer>(.*)</footer>", page, re.S)
    assert match is not None
    return unescape(match[1])


def test_the_footer_names_agreement_period_and_time_but_no_input_path(tmp_path: Path) -> None:
    out = _report(
        tmp_path, RULES, "--period", "2026-10", "--monthly-fee", "1000", "--currency", "USD"
    )
    footer = _footer((out / "acme-2026-10.html").read_text("utf-8"))
    assert "Agreement Acme (acme) · period 2026-10, UTC · generated 20" in footer
    assert "events.jsonl" not in footer
    assert str(tmp_path) not in footer
    assert not re.search(r"\d+ events", footer)
    document = json.loads((out / "acme-2026-10.json").read_text("utf-8"))
    assert document["source"]["events"]["total"] == len(EVENTS)  # the accounting stays here


def test_with_contract_the_other_agreements_events_are_out_of_scope_not_unknown(
    tmp_path: Path,
) -> None:
    extra = [*_for("other", EVENTS[:3]), *_for("nobody", EVENTS[:2])]
    out = _report(tmp_path, RULES, "--period", "2026-10", extra=extra)
    events = json.loads((out / "acme-2026-10.json").read_text("utf-8"))["source"]["events"]
    assert (events["out_of_scope"], events["unknown_contract"]) == (3, 2)
    assert events["total"] == len(EVENTS) + 5


def test_availability_samples_read_as_hours_of_service_not_seconds(tmp_path: Path) -> None:
    out = _report(tmp_path, RULES, "--period", "2026-10")
    page = (out / "acme-2026-10.html").read_text("utf-8")
    row = re.search(r"<strong>availability</strong>.*?</tr>", page, re.S)
    assert row is not None
    assert '<td class="num">744 h</td>' in row[0]  # October: 31 days of 24 h
    assert "2,678,400" not in page
    document = json.loads((out / "acme-2026-10.json").read_text("utf-8"))
    assert document["objectives"]["availability"]["samples"] == 2_678_400  # JSON unchanged


ZH_RULES = RULES.replace("title: Acme", "title: 客户服务\nlabels: {language: zh}")


@pytest.mark.parametrize(
    "options",
    [
        ("--period", "2026-10", "--monthly-fee", "1000", "--currency", "CNY", "--credit-cap", "8"),
        ("--from", "2026-10-01", "--to", "2026-10-15"),
    ],
    ids=["month-with-credits", "range-without-credits"],
)
def test_a_chinese_page_has_no_english_status_words_or_notes(
    tmp_path: Path, options: tuple[str, ...]
) -> None:
    out = _report(tmp_path, ZH_RULES, *options)
    (page_path,) = out.glob("*.html")
    page = page_path.read_text("utf-8")
    text = _visible_text(page)
    for heading in re.findall(r'<span class="en">([^<]+)</span>', page):
        text = text.replace(heading, "")  # headings keep their English beside the Chinese
    for agreement_text in ("email-first-response", "phone-sl", "availability", "acme", "core"):
        text = text.replace(agreement_text, "")
    for clause in ("9.1 late replies", "9.2 downtime", "slamon"):
        text = text.replace(clause, "")
    assert ENGLISH_WORDS.findall(text) == []
    assert "未达成" in text
    if "--monthly-fee" in options:
        assert "应赔付" in text
        assert "封顶前 15%" in text  # 5 % + 10 % owed, capped at 8 %
    else:
        assert "服务赔偿按自然月评估" in text
