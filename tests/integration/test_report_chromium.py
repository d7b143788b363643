"""The HTML report in a real headless Chromium: headings, charts, no console error, no fetch.

Skips with the reason where Chromium or chromedriver is absent (CI installs the
Debian packages ``chromium`` and ``chromium-driver``). Screenshots are saved under
the test's tmp dir and copied to ``test-artifacts/``.
"""

from __future__ import annotations

import itertools
import math
import re
import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.replay import read_lines
from monitor.reporting.credits import CreditTerms
from monitor.reporting.period import month_period
from monitor.reporting.run import build_reports, write_outputs
from monitor.rulespec.loader import load_rules
from monitor.simulate import simulate, write_jsonl

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CONTRACTS = ("cta-apc-nj", "cn-customer-service-terms")
SECTIONS = (
    "Objectives",
    "Daily trend",
    "Hour-of-day service level",
    "Breaches",
    "Availability",
    "Service credits",
)
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def _binary(*names: str) -> str | None:
    return next((found for name in names if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    chromium = _binary("chromium", "chromium-browser", "google-chrome")
    driver_path = _binary("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip(
            "headless Chromium test needs chromium and chromedriver (apt: chromium chromium-driver)"
        )
    profile = tempfile.mkdtemp(prefix="slamon-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", "--window-size=1100,1400"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    from selenium.webdriver.chrome.service import Service

    driver = webdriver.Chrome(service=Service(executable_path=driver_path), options=options)
    driver.set_page_load_timeout(60)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Reports for an English and a Chinese agreement from 36 h of simulated traffic."""
    tmp = tmp_path_factory.mktemp("report-html")
    agreements, problems = load_rules([ROOT / "rules"])
    assert not problems
    chosen = [a for a in agreements if a.contract_id in CONTRACTS]
    events = tmp / "events.jsonl"
    begin = datetime(2026, 10, 13, tzinfo=UTC)
    write_jsonl(simulate(chosen, start=begin, duration=timedelta(hours=36), seed=5), events)
    run = build_reports(
        read_lines(events),
        chosen,
        lambda a: month_period(a.timezone, "2026-10"),
        terms=CreditTerms(monthly_fee=20000, currency="USD"),
        source={"kind": "file", "path": "simulated"},
    )
    written = write_outputs(run, tmp / "out")
    return {
        contract: next(p for p in written if p.name == f"{contract}-2026-10.html")
        for contract in CONTRACTS
    }


def _open(browser: Any, page: Path) -> list[dict[str, Any]]:
    browser.get_log("browser")  # drop what earlier pages logged
    browser.get(page.as_uri())
    browser.execute_script("return document.fonts.ready")
    return list(browser.get_log("browser"))


def _screenshot(browser: Any, target: Path) -> Path:
    browser.set_window_size(1100, 400)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(1100, min(int(height) + 40, 12000))
    assert browser.save_screenshot(str(target))
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(target, ARTIFACTS / target.name)
    return target


@pytest.mark.parametrize("contract", CONTRACTS)
def test_the_report_page_renders_its_sections_and_charts_without_errors(
    browser: Any, pages: dict[str, Path], contract: str, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    logs = _open(browser, pages[contract])
    errors = [entry for entry in logs if entry["level"] in ("SEVERE", "ERROR")]
    assert errors == []
    headings = [h.text for h in browser.find_elements(By.TAG_NAME, "h2")]
    for section in SECTIONS:
        assert any(section in heading for heading in headings), (section, headings)
    charts = browser.find_elements(By.CSS_SELECTOR, "svg.chart")
    measured = browser.execute_script(
        "return document.querySelectorAll('#objectives ~ table tbody tr').length"
    )
    assert measured >= 5
    assert len(charts) >= 5
    for chart in charts:
        size = chart.size
        assert size["width"] > 100
        assert size["height"] > 30
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart line.target")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart circle.point")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.cell")
    assert browser.find_elements(By.CSS_SELECTOR, "svg.chart rect.segment")
    fetched = browser.execute_script("return performance.getEntriesByType('resource').length")
    assert fetched == 0
    shot = _screenshot(browser, tmp_path / f"report-{contract}.png")
    assert shot.stat().st_size > 10_000


#: Per chart: the target label's box, every point's and line's box, and the axis ticks.
CHART_GEOMETRY = """
const box = (e) => { const r = e.getBoundingClientRect();
  return {left: r.left, right: r.right, top: r.top, bottom: r.bottom}; };
return [...document.querySelectorAll('svg.chart')]
  .filter((svg) => svg.querySelector('.target-label'))
  .map((svg) => ({
    label: box(svg.querySelector('.target-label')),
    data: [...svg.querySelectorAll('circle.point, polyline')].map(box),
    ticks: [...svg.querySelectorAll('text.axis')].map((t) => t.textContent),
  }));
"""


def _overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"]
        and b["left"] < a["right"]
        and a["top"] < b["bottom"]
        and (b["top"] < a["bottom"])
    )


def _is_round_axis(ticks: list[str]) -> bool:
    """Evenly spaced values whose step is 1, 2 or 5 times a power of ten."""
    values = [float(re.sub(r"[^\d.]", "", tick)) for tick in ticks]
    steps = {round(b - a, 9) for a, b in itertools.pairwise(values)}
    if len(values) < 2 or len(steps) != 1:
        return False
    step = steps.pop()
    mantissa = step / 10 ** math.floor(math.log10(step))
    return any(math.isclose(mantissa, m) for m in (1.0, 2.0, 5.0))


@pytest.mark.parametrize("contract", CONTRACTS)
def test_chart_targets_are_labelled_clear_of_the_data_on_round_axes(
    browser: Any, pages: dict[str, Path], contract: str
) -> None:
    _open(browser, pages[contract])
    charts = browser.execute_script(CHART_GEOMETRY)
    assert len(charts) >= 5
    for chart in charts:
        assert chart["label"]["right"] - chart["label"]["left"] > 20  # drawn, with a size
        assert [box for box in chart["data"] if _overlap(chart["label"], box)] == []
        assert _is_round_axis(chart["ticks"]), chart["ticks"]


def test_the_round_axis_check_rejects_odd_ticks() -> None:
    assert _is_round_axis(["90%", "95%", "100%"])
    assert _is_round_axis(["0 s", "10 s", "20 s", "30 s"])
    assert not _is_round_axis(["93.8%", "95.3%", "96.9%", "98.4%", "100.0%"])
    assert not _is_round_axis(["0.0 s", "8.6 s", "17.2 s", "25.9 s", "34.5 s"])


def test_the_footer_states_what_a_customer_files_the_page_under(
    browser: Any, pages: dict[str, Path]
) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, pages["cta-apc-nj"])
    footer = browser.find_element(By.TAG_NAME, "footer").text
    assert "(cta-apc-nj) · period 2026-10, America/New_York · generated " in footer
    assert "simulated" not in footer  # the input's name stays in the JSON
    assert "events" not in footer.replace("event accounting", "")


def test_the_chinese_page_words_statuses_and_notes_in_chinese(
    browser: Any, pages: dict[str, Path]
) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, pages["cn-customer-service-terms"])
    badges = {badge.text for badge in browser.find_elements(By.CSS_SELECTOR, ".badge")}
    assert badges <= {"达成", "未达成", "无数据", "数据不完整"}, badges
    assert badges & {"达成", "未达成"}
    heads = [th.text for th in browser.find_elements(By.TAG_NAME, "th") if th.text]
    assert not [head for head in heads if re.search(r"[A-Za-z]", head)], heads
    credits = browser.find_element(By.ID, "credits").find_element(By.XPATH, "following-sibling::p")
    assert credits.text == "本协议没有服务赔偿条款。"
    labels = browser.find_elements(By.CSS_SELECTOR, "svg.chart .target-label")
    assert labels
    assert all(label.text.startswith("目标 ") for label in labels)


def test_the_chinese_agreement_keeps_its_language_and_title(
    browser: Any, pages: dict[str, Path]
) -> None:
    from selenium.webdriver.common.by import By

    _open(browser, pages["cn-customer-service-terms"])
    assert browser.find_element(By.TAG_NAME, "html").get_attribute("lang") == "zh-CN"
    assert browser.find_element(By.TAG_NAME, "h1").text == "客户服务协议条款规范"
    assert "目标达成情况" in browser.find_element(By.ID, "objectives").text
    font = browser.execute_script("return getComputedStyle(document.body).fontFamily")
    assert "Noto Sans CJK SC" in font


def test_the_console_check_would_catch_a_blocked_fetch(
    browser: Any, pages: dict[str, Path], tmp_path: Path
) -> None:
    """Control: a page that tries to load a remote image logs an error the test sees."""
    html = pages["cta-apc-nj"].read_text("utf-8")
    broken = tmp_path / "broken.html"
    broken.write_text(
        html.replace("</main>", '<img src="https://example.invalid/x.png"></main>'), "utf-8"
    )
    logs = _open(browser, broken)
    assert any(entry["level"] == "SEVERE" for entry in logs), logs
