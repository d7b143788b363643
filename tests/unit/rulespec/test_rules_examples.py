"""The example agreements in rules/ (one per seed document) load, and the CLI agrees."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from monitor.cli import app
from monitor.domain.agreement import ItemObjective, Target, WindowObjective, Workdays
from monitor.rulespec.loader import load_agreement, load_rules, load_text

ROOT = Path(__file__).resolve().parents[3]
RULES = ROOT / "rules"
BROKEN = ROOT / "tests" / "fixtures" / "broken_rules"
RULE_FILES = sorted(RULES.glob("*.y*ml"))


def _local(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def test_there_is_one_rule_file_per_seed_document() -> None:
    assert [path.name for path in RULE_FILES] == [
        "call-center-service-agreement.yaml",
        "call-center-services-sample.yaml",
        "cn-branch-support-2024.yaml",
        "cn-customer-service-terms.yaml",
        "cta-apc-nj.yaml",
    ]


@pytest.mark.parametrize("path", RULE_FILES, ids=[path.stem for path in RULE_FILES])
def test_every_rule_file_is_valid_and_cites_its_clauses(path: Path) -> None:
    agreement = load_agreement(path)

    assert agreement.objectives
    assert all(objective.clause for objective in agreement.objectives)
    assert all(credit.clause for credit in agreement.credits)


def test_the_rule_files_together_are_valid_with_unique_contract_ids() -> None:
    agreements, problems = load_rules([RULES])

    assert problems == []
    assert len({a.contract_id for a in agreements}) == len(RULE_FILES)


def test_the_chinese_branch_contract_keeps_its_hours_holidays_and_make_up_days() -> None:
    agreement = load_agreement(RULES / "cn-branch-support-2024.yaml")
    calendar = agreement.calendars["business"]
    repair = agreement.objective("repair")

    assert agreement.title == "分公司2024年客户服务与支持合同"
    assert agreement.timezone == "Asia/Shanghai"
    assert calendar.is_open(_local("2026-11-20T09:30:00+08:00"))
    assert not calendar.is_open(_local("2026-11-20T12:30:00+08:00"))  # lunch break
    assert not calendar.is_open(_local("2026-10-01T10:00:00+08:00"))  # National Day
    assert calendar.is_open(_local("2026-02-14T10:00:00+08:00"))  # make-up Saturday
    assert isinstance(repair, ItemObjective)
    assert repair.within == Workdays(7)
    assert [credit.objective for credit in agreement.credits] == ["repair"]


def test_the_chinese_template_has_its_example_figures() -> None:
    agreement = load_agreement(RULES / "cn-customer-service-terms.yaml")
    hotline = agreement.objective("hotline-60s")
    complaints = agreement.objective("complaints")

    assert agreement.objective("core-availability").target == Target(">=", 0.995)
    assert isinstance(hotline, WindowObjective)
    assert hotline.threshold == 60.0
    assert isinstance(complaints, ItemObjective)
    assert complaints.within == Workdays(2)


def test_the_new_jersey_agreement_uses_new_jersey_holidays() -> None:
    calendar = load_agreement(RULES / "cta-apc-nj.yaml").calendars["business"]

    assert calendar.is_open(_local("2026-11-20T10:00:00-05:00"))
    assert not calendar.is_open(_local("2026-11-26T10:00:00-05:00"))  # Thanksgiving
    assert not calendar.is_open(_local("2026-12-24T10:00:00-05:00"))  # extra holiday


def test_slamon_validate_accepts_the_rules_folder() -> None:
    result = CliRunner().invoke(app, ["validate", str(RULES)])

    assert result.exit_code == 0, result.output
    assert result.stdout == f"ok: {len(RULE_FILES)} agreement(s) valid (slamon/v1)\n"
    assert result.stderr == ""


def test_slamon_validate_reads_rules_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)

    assert CliRunner().invoke(app, ["validate"]).exit_code == 0


def test_slamon_validate_prints_every_problem_and_exits_2_on_a_broken_folder() -> None:
    result = CliRunner().invoke(app, ["validate", str(BROKEN)])

    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        f"{BROKEN}/b-duplicate-contract.yaml:3: contract: contract id 'shared-id' is already "
        f"used by {BROKEN}/a-valid.yaml",
        f"{BROKEN}/c-mistakes.yml:6: objectives[0].threshold: required field is missing",
        f"{BROKEN}/c-mistakes.yml:8: objectives[0].treshold: unknown field 'treshold' "
        "(did you mean 'threshold'?)",
        f"{BROKEN}/c-mistakes.yml:11: objectives[1].match.channel: unknown channel 'fax': "
        "matcher can never match (known: email, portal, phone, chat, other)",
        f"{BROKEN}/c-mistakes.yml:13: credits[0].objective: no objective with id 'missing'",
        f"{BROKEN}/d-syntax.yaml:5: (yaml): YAML syntax error: expected ',' or '}}', but got ':'",
        f"{BROKEN}/e-old-version.yaml:1: version: unsupported version 'slamon/v0'; "
        "this slamon reads slamon/v1",
    ]
    assert result.stderr == (
        "slamon: error: 7 problem(s) in the agreement files (checked against slamon/v1)\n"
    )


def test_slamon_validate_exits_2_on_a_missing_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["validate", str(tmp_path / "nope.yaml")])

    assert result.exit_code == 2
    assert result.stdout == f"{tmp_path / 'nope.yaml'}:0: (file): no such file or folder\n"


def test_the_complete_example_in_the_docs_is_valid() -> None:
    docs = (ROOT / "docs" / "agreements.md").read_text(encoding="utf-8")
    example = docs.split("```yaml\n", 1)[1].split("```", 1)[0]

    agreement = load_text(example, "docs/agreements.md")

    assert agreement.contract_id == "acme-support"
    assert len(agreement.objectives) == 13


def test_the_readme_example_is_the_example_file_and_it_is_valid() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Agreement files", 1)[1]
    shown = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    example = ROOT / "docs" / "examples" / "agreement.yaml"

    assert shown == example.read_text(encoding="utf-8")
    agreements, problems = load_rules([example])
    assert problems == []
    assert [a.contract_id for a in agreements] == ["example-nj"]
    assert len(agreements[0].objectives) == 9


def test_slamon_validate_names_the_line_of_a_bad_monthly_contact_objective(
    tmp_path: Path,
) -> None:
    path = tmp_path / "monthly.yaml"
    path.write_text(
        "version: slamon/v1\ncontract: c\ntitle: t\nobjectives:\n"
        "  - {id: sl, kind: service_level, threshold: 20s, target: '>= 80%', period: quarter}\n"
        "  - {id: ab, kind: abandonment_rate, target: '>= 5%', period: month}\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(app, ["validate", str(path)])

    assert result.exit_code == 2
    assert result.stdout.splitlines() == [
        f"{path}:5: objectives[0].period: got 'quarter'; expected 'month'",
        f"{path}:6: objectives[1].target: target >= 5%: this objective needs <= or <",
    ]
