"""The words of the HTML report in the agreement's language.

The report is a document handed to a customer, so a Chinese agreement
(``labels: {language: zh}``) gets Chinese words everywhere: headings keep the
English beside them (the reader may forward the page), every other label,
status word and note is Chinese only. Templates are keyed by their English text
and filled with :meth:`str.format`; a unit test checks that every English text
the page uses has a translation here.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape
from typing import Final

ZH: Final[dict[str, str]] = {
    # headings (shown with the English beside them)
    "SLA report": "服务水平报告",
    "Objectives": "目标达成情况",
    "Daily trend": "每日趋势",
    "Hour-of-day service level": "分时段服务水平",
    "Breaches": "违约明细",
    "Top queues by breaches": "违约最多的队列",
    "Missed items": "超时事项",
    "Availability": "可用性",
    "Service credits": "服务赔偿",
    # status words
    "met": "达成",
    "missed": "未达成",
    "no data": "无数据",
    "owed": "应赔付",
    "not owed": "无需赔付",
    "not measured": "未计量",
    "partial period": "数据不完整",
    "up": "正常",
    "down": "中断",
    "degraded": "降级",
    "no calls": "无来电",
    "{count} calls": "{count} 通来电",
    # objective kinds, as ``kind_name`` words them
    "service level": "服务水平",
    "average speed of answer": "平均应答速度",
    "average wait": "平均等待时间",
    "abandonment rate": "放弃率",
    "average handle time": "平均处理时长",
    "satisfaction": "满意度",
    "first response": "首次响应",
    "next response": "后续响应",
    "resolution": "解决时限",
    "availability": "可用性",
    # header and tiles
    "data {start} – {end}": "数据范围 {start} – {end}",
    "no data in this period": "本期无数据",
    "objectives met": "达成目标",
    "objectives missed": "未达成目标",
    "items late": "超时事项",
    "credits owed": "应赔付金额",
    # table heads
    "objective": "目标",
    "attainment": "达成值",
    "target": "目标值",
    "margin": "余量",
    "samples": "样本量",
    "breaches": "违约次数",
    "queue": "队列",
    "item": "事项",
    "deadline": "截止时间",
    "late by": "超时",
    "channel": "渠道",
    "outage start": "中断开始",
    "end": "结束",
    "duration": "时长",
    "objective and clause": "目标与条款",
    "credit": "赔偿比例",
    "status": "状态",
    # values and notes
    "{value} pp": "{value} 个百分点",
    "{days}d {hours}h": "{days}天{hours}小时",
    "{hours}h {minutes}m": "{hours}小时{minutes}分",
    "{minutes}m {seconds}s": "{minutes}分{seconds}秒",
    "{seconds}s": "{seconds}秒",
    "{hours} h": "{hours} 小时",
    "{value} (open)": "{value}(未关闭)",
    "{end} (ongoing)": "{end}(持续中)",
    "{down} down": "中断 {down}",
    "target {value}": "目标 {value}",
    "{samples} samples": "样本量 {samples}",
    "No samples in this period.": "本期没有样本。",
    "No item missed its deadline.": "没有事项超过截止时间。",
    "{count} more in the breaches CSV.": "另有 {count} 项见违约明细 CSV 文件。",
    "No outage in this period.": "本期没有服务中断。",
    "Local hour of day across, days down: green where the hour met the target "
    "(darker: further inside), red where it missed, grey without calls.": (
        "横向为当地时间的小时,纵向为日期:绿色表示该小时达成目标(颜色越深余量越大),"
        "红色表示未达成,灰色表示没有来电。"
    ),
    "The agreement has no service credit section.": "本协议没有服务赔偿条款。",
    "Service credits are assessed per calendar month; report a month to see them.": (
        "服务赔偿按自然月评估;请按月生成报告以查看赔偿。"
    ),
    "Missed objectives owe their percentage of the monthly fee once per month, "
    "capped at {cap}% in total.": (
        "每个未达成的目标每月按其比例赔付一次月费,合计不超过月费的 {cap}%。"
    ),
    "Provisional: the data does not cover the whole month.": "暂定:数据未覆盖整月。",
    "Total owed": "应赔付合计",
    "{percent}% of the monthly fee": "月费的 {percent}%",
    "capped from {percent}%": "封顶前 {percent}%",
    "Agreement {title} ({contract}) · period {period}, {timezone} · "
    "generated {generated} by slamon {version}.": (
        "协议 {title}({contract})· 报告期 {period},{timezone} · "
        "由 slamon {version} 于 {generated} 生成。"
    ),
    "Every number is the SLA engine's own count for this period; the JSON and CSV "
    "files carry the same numbers and the event accounting.": (
        "所有数字均为 SLA 引擎对本报告期的统计;JSON 与 CSV 文件包含相同的数字及事件统计。"
    ),
}


@dataclass(frozen=True, slots=True)
class Texts:
    """Words for one page: English, or Chinese for a Chinese agreement."""

    zh: bool

    def __call__(self, english: str, /, **fields: object) -> str:
        """The plain text of ``english`` in the page's language, fields filled in."""
        template = ZH.get(english, english) if self.zh else english
        return template.format(**fields) if fields else template

    def kind(self, kind: str) -> str:
        """An objective kind as words (``first_response`` reads "first response")."""
        return self(kind_name(kind))

    def html(self, english: str, **fields: object) -> str:
        return escape(self(english, **fields))

    def heading(self, english: str) -> str:
        """A heading as HTML: Chinese with the English after it on a Chinese page."""
        if self.zh and english in ZH:
            return f'{escape(ZH[english])}<span class="en">{escape(english)}</span>'
        return escape(english)


def kind_name(kind: str) -> str:
    return kind.replace("_", " ")
