"""bench.ab: revisions exported and replayed in their own processes, alerts compared."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import bench.ab
from bench.ab import WORKTREE, Worker, export, main
from bench.ab_worker import alerts_digest
from monitor.replay import read_lines, replay
from monitor.rulespec.loader import load_rules
from monitor.simulate import simulate, write_jsonl

RULES = Path(__file__).resolve().parents[3] / "rules"


@pytest.fixture(scope="module")
def events_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    agreements, _ = load_rules([RULES])
    start = datetime(2026, 11, 2, 8, tzinfo=UTC)
    stream = simulate(agreements, start=start, duration=timedelta(hours=6), seed=2)
    path = tmp_path_factory.mktemp("ab") / "events.jsonl"
    write_jsonl(stream, path)
    return path


def test_the_working_tree_is_exported_with_its_package_and_rules(tmp_path: Path) -> None:
    tree = export(WORKTREE, tmp_path / "tree")

    assert (tree / "monitor" / "domain" / "engine.py").is_file()
    assert sorted(p.name for p in (tree / "rules").iterdir()) == sorted(
        p.name for p in RULES.iterdir()
    )
    assert not list(tree.rglob("__pycache__"))


def test_a_git_revision_is_exported_from_the_repository(tmp_path: Path) -> None:
    tree = export("HEAD", tmp_path / "tree")

    assert (tree / "monitor" / "replay.py").is_file()
    assert (tree / "rules").is_dir()


def test_rules_can_come_from_another_revision_than_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = tmp_path / "repo"
    (repo / "monitor").mkdir(parents=True)
    (repo / "rules").mkdir()

    def commit(engine: str, rules: str) -> None:
        (repo / "monitor" / "engine.py").write_text(engine)
        (repo / "rules" / "contract.yaml").write_text(rules)
        subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
        subprocess.run(
            [
                "git",
                "-C",
                str(repo),
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
                "commit",
                "-qm",
                engine,
            ],
            check=True,
        )

    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    commit("old engine", "old rules")
    commit("new engine", "new rules")
    monkeypatch.setattr(bench.ab, "ROOT", repo)

    tree = export("HEAD", tmp_path / "tree", rules_from="HEAD~1")
    own = export("HEAD", tmp_path / "own")

    assert (tree / "monitor" / "engine.py").read_text() == "new engine"
    assert (tree / "rules" / "contract.yaml").read_text() == "old rules"
    assert (own / "rules" / "contract.yaml").read_text() == "new rules"


def test_an_unknown_revision_is_refused_with_git_s_reason(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="cannot export 'no-such-revision'"):
        export("no-such-revision", tmp_path / "tree")


def test_a_worker_replays_the_exported_tree_like_an_in_process_replay(
    tmp_path: Path, events_file: Path
) -> None:
    agreements, _ = load_rules([RULES])
    expected = replay(read_lines(events_file), agreements).alerts
    worker = Worker(export(WORKTREE, tmp_path / "tree"), events_file)
    try:
        first, second = worker.run(), worker.run()
    finally:
        worker.stop()

    assert len(expected) > 20
    assert first.alerts == second.alerts == len(expected)
    assert first.digest == second.digest == alerts_digest(expected)
    assert first.seconds > 0


def test_two_revisions_alternate_and_the_result_says_whether_their_alerts_agree(
    tmp_path: Path, events_file: Path
) -> None:
    out = tmp_path / "ab.json"

    options = ["--keep", str(events_file), "--rounds", "2", "--out", str(out)]
    main([WORKTREE, WORKTREE, *options, "--rules", WORKTREE])

    result = json.loads(out.read_text())
    assert result["rules"] == WORKTREE
    assert result["same_alerts"] is True
    assert len(result["base_seconds"]) == len(result["new_seconds"]) == 2
    assert result["ratio_new_to_base"] == pytest.approx(
        result["new_median_s"] / result["base_median_s"]
    )
