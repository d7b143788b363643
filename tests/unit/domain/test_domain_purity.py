"""The domain core stays pure: no Kafka, Faust, HTTP, clock, randomness or logging."""

import ast
from pathlib import Path

import pytest

DOMAIN = Path(__file__).resolve().parents[3] / "monitor" / "domain"
FORBIDDEN_MODULES = {
    "faust",
    "mode",
    "aiokafka",
    "kafka",
    "httpx",
    "aiohttp",
    "requests",
    "urllib",
    "socket",
    "asyncio",
    "time",
    "random",
    "logging",
    "structlog",
    "holidays",
    "prometheus_client",
    "monitor.stream",
    "monitor.sinks",
    "monitor.cli",
}
FORBIDDEN_CALLS = {
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("date", "today"),
    ("datetime", "today"),
}


def _modules() -> list[Path]:
    return sorted(DOMAIN.glob("*.py"))


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_domain_module_imports_nothing_impure(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
        for name in names:
            root = name.split(".")[0]
            assert root not in FORBIDDEN_MODULES, f"{path.name} imports {name}"
            assert name not in FORBIDDEN_MODULES, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: p.name)
def test_domain_module_never_reads_the_clock(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            assert (node.value.id, node.attr) not in FORBIDDEN_CALLS, (
                f"{path.name} calls {node.value.id}.{node.attr}"
            )


def test_the_purity_check_finds_the_domain_modules() -> None:
    assert len(_modules()) >= 8
