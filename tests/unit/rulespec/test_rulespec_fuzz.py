"""Generated agreement files: whatever the text, loading ends in agreements or located problems.

Two generators: mutations of the example agreements in rules/ (splices of YAML
syntax, hostile scalars, anchors, aliases and tags into real files) and random
YAML built from the same pieces. For each file ``load_rules`` must return, never
raise; every problem names the file, a line and a field. Time per file is
bounded by the loader's limits (size, values, aliases, depth), which the
hostile-file tests pin; no test here times anything. And what loads, runs: the
engine takes a few events of every type and forty days of event time under any
agreement that passed, without an exception.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.domain.engine import Engine
from monitor.domain.events import Event, parse_event
from monitor.rulespec.loader import load_rules

RULES = Path(__file__).resolve().parents[3] / "rules"
EXAMPLES = sorted(path.read_text(encoding="utf-8") for path in RULES.glob("*.yaml"))

HOSTILE_SCALARS = [
    ".nan",
    ".inf",
    "-.inf",
    "1e308",
    "-1",
    "0",
    "9" * 60,
    "1e400",
    "2026-02-30",
    "2026-13-01",
    "2026-02-03 25:00:00",
    "100000000 workdays",
    "0 workdays",
    "99999999d",
    "'>= 1e999%'",
    "'<= 1e300s'",
    "'>= nan%'",
    "~",
    "null",
    "true",
    "''",
    '"\\x00"',
    "'é中文'",
    "<<",
    "!!python/object/apply:os.system ['x']",
    "!!binary aGk=",
    "!custom x",
    "!!str 5",
    "!!float 1",
    "!!bool maybe",
    "!!float ''",
    "!!int abc",
    "!!null x",
    "&a x",
    "*a",
    "*missing",
    "&b {k: *b}",
    "2026-12-24",
    "12h",
    "2 workdays",
    "'>= 80%'",
    "'<= 30s'",
    "75%",
    "mon-fri",
    "'09:00-18:00'",
    "'25:00-26:00'",
]
SYNTAX = [
    "[",
    "]",
    "{",
    "}",
    ":",
    ": ",
    "- ",
    ",",
    "\n",
    "\n  ",
    "\n    - ",
    "#",
    "'",
    '"',
    "? ",
    "|",
    ">",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "\t",
    "<<: *a",
    "&a ",
    "*a",
]
KEYS = [
    "version",
    "contract",
    "title",
    "objectives",
    "id",
    "kind",
    "within",
    "window",
    "target",
    "threshold",
    "calendars",
    "weekly",
    "alerting",
    "escalation",
    "after",
    "credits",
    "percent_of_fee",
    "warn_at",
    "for",
    "scale_max",
    "min_volume",
    "<<",
    "labels",
    "x",
]
KINDS = [
    "first_response",
    "resolution",
    "service_level",
    "availability",
    "satisfaction",
    "abandonment_rate",
    "average_speed_of_answer",
]

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def mutated_examples(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(EXAMPLES))
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, min(len(text), start + 40)))
        piece = draw(st.sampled_from(HOSTILE_SCALARS + SYNTAX + KEYS + KINDS) | st.text(max_size=8))
        text = text[:start] + piece + text[end:]
    return text


def scalars() -> st.SearchStrategy[str]:
    return st.sampled_from(HOSTILE_SCALARS + KINDS) | st.from_regex(
        r"[a-z0-9 .%<>=-]{0,12}", fullmatch=True
    )


def yaml_values() -> st.SearchStrategy[str]:
    return st.recursive(
        scalars(),
        lambda inner: (
            st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]")
            | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4).map(
                lambda fields: "{" + ", ".join(f"{k}: {v}" for k, v in fields.items()) + "}"
            )
        ),
        max_leaves=20,
    )


@st.composite
def random_agreements(draw: st.DrawFn) -> str:
    head = draw(st.sampled_from(["version: slamon/v1\ncontract: c\ntitle: t\n", ""]))
    fields = draw(st.dictionaries(st.sampled_from(KEYS), yaml_values(), max_size=6))
    return head + "".join(f"{key}: {value}\n" for key, value in fields.items())


START = 1_790_000_000.0
DAY_S = 86400.0
EVENT_FIELDS = [
    ("ticket.created", {"ticket_id": "T1", "channel": "email", "priority": "high"}),
    ("ticket.created", {"ticket_id": "T2", "channel": "chat", "category": "complaint"}),
    ("call.offered", {"call_id": "C1"}),
    ("call.answered", {"call_id": "C1", "wait_s": 30}),
    ("chat.started", {"chat_id": "H1"}),
    ("survey.response", {"score": 3}),
    ("service.status", {"service": "core", "status": "down"}),
    ("ticket.status_changed", {"ticket_id": "T1", "status": "pending"}),
]


def sample_events(contract_id: str) -> list[Event]:
    events = []
    for index, (kind, fields) in enumerate(EVENT_FIELDS):
        ts = datetime.fromtimestamp(START + index * 600, UTC).isoformat()
        record = {"event_id": f"e{index}", "type": kind, "ts": ts, "contract_id": contract_id}
        event = parse_event(json.dumps({**record, **fields}))
        assert isinstance(event, Event), event
        events.append(event)
    return events


def assert_loads_or_locates(text: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.yaml"
        path.write_text(text, encoding="utf-8", errors="surrogatepass")
        agreements, problems = load_rules([path])
    assert agreements or problems
    if agreements:
        engine = Engine(agreements)
        engine.apply_all(sample_events(agreements[0].contract_id))
        engine.advance(START + 40 * DAY_S)
    for problem in problems:
        assert problem.file == str(path)
        assert isinstance(problem.line, int)
        assert problem.line >= 0
        assert problem.field
        assert problem.message
        assert "Traceback" not in problem.message


@FUZZ
@given(mutated_examples())
def test_a_mutated_example_agreement_loads_or_reports_located_problems(text: str) -> None:
    assert_loads_or_locates(text)


@FUZZ
@given(random_agreements())
def test_random_yaml_loads_or_reports_located_problems(text: str) -> None:
    assert_loads_or_locates(text)


@FUZZ
@given(st.text(max_size=200))
def test_arbitrary_text_loads_or_reports_located_problems(text: str) -> None:
    assert_loads_or_locates(text)
