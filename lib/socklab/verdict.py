"""What a check's verdict must also say: which tests ran, and what a person grades by hand.

``socklab check`` and the student lab's Validate button both show this, so a student never reads
"Success" when only the visible tests ran or when an exercise still waits for the instructor.
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

__all__ = ["HandGraded", "hand_graded", "summary_lines", "summary_html"]

_EXERCISE = re.compile(r"연습\s*(\d+)")


@dataclass(frozen=True)
class HandGraded:
    """An exercise the autograder does not score (an nbgrader manually graded answer or task)."""

    grade_id: str
    number: str | None
    points: float

    def line(self) -> str:
        """``연습 9 (5점): 강사 채점 / graded by hand``"""
        name = f"연습 {self.number}" if self.number else self.grade_id
        return f"{name} ({self.points:g}점): 강사 채점 / graded by hand ({self.grade_id})"


def hand_graded(notebook: Path | str) -> list[HandGraded]:
    """Hand-graded exercises of `notebook`, numbered from the nearest "연습 N" above each."""
    nb = nbformat.read(str(notebook), as_version=4)
    found, last_number = [], None
    for cell in nb.cells:
        if cell.cell_type == "markdown" and (match := _EXERCISE.search(cell.source)):
            last_number = match.group(1)
        meta = cell.get("metadata", {}).get("nbgrader", {})
        manual = (meta.get("grade") and meta.get("solution")) or meta.get("task")
        if manual:
            found.append(HandGraded(str(meta.get("grade_id", "?")), last_number, float(meta.get("points", 0))))
    return found


def summary_lines(report, notebook: Path | str) -> list[str]:
    """The verdict's first lines for a :class:`socklab.grading.check.CheckReport` of `notebook`."""
    if report.hidden_tests:
        ran = "숨겨진 테스트까지 실행했습니다 / visible and hidden tests ran (the grader's own tests)"
    else:
        ran = ("보이는 테스트만 실행했습니다: 채점 때 숨겨진 테스트가 더 있습니다 / only the visible tests ran; "
               "the grader adds hidden tests")
    manual = hand_graded(notebook)
    auto = f"자동 채점 / autograded: {report.score:g} / {report.max_score:g}점"
    lines = [ran, auto]
    if manual:
        lines.append(f"강사가 채점할 연습 / graded by hand ({sum(m.points for m in manual):g}점, not in the score above):")
        lines += [f"  {m.line()}" for m in manual]
    return lines


def summary_html(report, notebook: Path | str) -> str:
    """:func:`summary_lines` as HTML (one paragraph, one line each)."""
    return "<p>" + "<br>".join(html.escape(line).replace("  ", "&nbsp;&nbsp;")
                               for line in summary_lines(report, notebook)) + "</p>"
