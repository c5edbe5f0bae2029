"""``\\answer<F><X><R>`` (a claimed result, graded by the build) and ``solutions=hide``.

The claims are those of ``test_lint``: each one is first judged *here* with finite differences
and numpy written by hand (``_verify_independently``), then written as an ``\\answer``.  A wrong
one must fail at R's line and column with lint's reason and a correct result that this test
checks against finite differences too; a right one must come out as R with a ✓, and render's
output must lint clean.  ``solutions=hide`` must keep each question and leak nothing of the
solution: not in the math, not in a comment, not in a marker.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_lint import B, claims, same, _verify_independently  # noqa: E402

from matdiff_tex import evaluate, render_text  # noqa: E402
from matdiff_tex.check.lint import lint_report  # noqa: E402
from matdiff_tex.document import process_document  # noqa: E402
from matdiff_tex.expr.reader import read_derivative_input  # noqa: E402
from matdiff_tex.scan import scan  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
HOMEWORK = REPO_ROOT / "examples" / "homework.tex"
ANSWER = re.compile(r"\\answer(?:\[[^\]]*\])?<")
#: What a hidden solution may leave after the question's "=": the blank, room below it, the layout.
HIDDEN_RHS = re.compile(r"\\underline\{\\hspace\{10em\} \}(?: \\rule\[-\d+em\]\{0pt\}\{\d+em\})?"
                        r"(?: \\qquad \\text\{\((?:numerator|denominator) layout\)\}|（分[子母]布局）)?")


def first_order(layout: str) -> list:
    return [claim for claim in claims(layout) if claim.order == 1]


def _sizes(claim) -> dict[str, int]:
    """The claim's dimension names (m, n, ...) bound to the sizes of its values."""
    read = read_derivative_input(claim.f, claim.x, None)
    sizes = {}
    for name, symbol in read.symbols.items():
        for dim, size in zip((symbol.nrows, symbol.ncols), claim.values[name].shape):
            if dim.is_atom and dim.names:
                sizes[dim.names[0]] = size
    return sizes


def _correct_in(message: str) -> str:
    """The correct result a message names ("the right result is R" / "the derivative is R; ...")."""
    found = re.search(r"the right result is (.+)$", message) or re.search(r"the derivative is (.+?); ", message)
    assert found, message
    return found.group(1)


@pytest.mark.parametrize("layout", ["numerator", "denominator"])
def test_answers_are_graded_as_lint_grades_claims(layout: str) -> None:
    written = first_order(layout)
    for claim in written:
        _verify_independently(claim, layout)
    lines = ["---", f"matdiff: {{layout: {layout}, lang: en}}", "---", ""]
    where = {}
    for claim in written:
        lines += ["An exercise.", "", rf"\answer<{claim.f}><{claim.x}><{claim.r}>", ""]
        where[len(lines) - 1] = claim
    text = "\n".join(lines)
    result = process_document(text, "markdown", path="hw.md")
    wrong = {line: claim for line, claim in where.items() if claim.expect is not None}
    assert {error.line for error in result.errors} == set(wrong), [e.format() for e in result.errors]
    assert result.text == text  # a note with an error is not written
    for error in result.errors:
        claim = wrong[error.line]
        assert error.path == "hw.md"
        assert error.col == text.splitlines()[error.line - 1].rindex(claim.r) + 1  # at R itself
        assert error.message.startswith("wrong answer: ")
        assert claim.expect.removeprefix("wrong: ") in error.message, error.message
        correct = evaluate(_correct_in(error.message), claim.values, _sizes(claim))  # named result: finite differences agree
        assert same(np.atleast_2d(correct), claim.truth(layout)), error.message

    right = [claim for claim in written if claim.expect is None]
    text = "\n".join(["---", f"matdiff: {{layout: {layout}}}", "---", ""]
                     + [rf"\answer<{c.f}><{c.x}><{c.r}>" + "\n" for c in right])
    out = render_text(text, "markdown")
    for claim in right:
        assert f"&= {claim.r} \\quad \\checkmark" in out
    report = lint_report(out, "markdown")  # render's own output: no false alarm, every answer read
    assert not report.errors, [f.format() for f in report.errors]
    assert report.checked == len(right), [f.format() for f in report.findings]


def test_answers_in_latex_in_every_placement_and_every_error_reported() -> None:
    a_x = rf"{B}{{a}}^{{\top}}{B}{{x}}"
    text = "\n".join([
        "% matdiff: lang=en",
        r"\begin{document}",
        rf"\answer<{a_x}><{B}{{x}}><{B}{{a}}^{{\top}}>",
        "",
        rf"Inline \(\answer<{B}{{A}}{B}{{x}}><{B}{{x}}><{B}{{A}}>\) and",
        r"\begin{equation}",
        rf"\answer[layout=denominator]<{a_x}><{B}{{x}}><{B}{{a}}^{{\top}}>",
        r"\end{equation}",
        rf"\answer<{a_x}><{B}{{x}}><{B}{{a}}+{B}{{b}}>",
        rf"\deriv<{B}{{A}}{B}{{x}}+><{B}{{x}}>",
        r"\end{document}",
    ])
    result = process_document(text, "latex", path="hw.tex")
    found = [(e.line, e.col, e.message.split(":")[0]) for e in result.errors]
    lines = text.splitlines()
    expected = [(7, lines[6].rindex("<") + 2), (9, lines[8].rindex("<") + 2), (10, lines[9].index("+>") + 1)]
    assert [(line, col) for line, col, _ in found] == expected, [e.format() for e in result.errors]
    assert found[0][2] == "wrong answer" and "holds in numerator layout" in result.errors[0].message
    assert result.errors[1].message.startswith("this answer cannot be checked")  # b is not in F
    assert "is not marked right" in result.errors[1].message

    fine = "\n".join(text.splitlines()[:6] + text.splitlines()[8:9] + [r"\end{document}"]).replace(
        rf"<{B}{{a}}+{B}{{b}}>", rf"<{B}{{a}}^{{\top}}>")
    out = render_text(fine, "latex")
    assert out.count(r"\checkmark") == 3 and r"\answer" not in out
    assert r"\begin{equation}" in out and r"\(\frac{\partial" in out
    assert not lint_report(out, "latex").errors


def test_an_answer_that_cannot_be_checked_is_never_marked_right() -> None:
    cases = {
        rf"{B}{{A}}^{{\top}} + {B}{{C}}": "does not occur",  # a symbol F does not have
        r"\frobnicate": "cannot read",
    }
    for r, why in cases.items():
        with pytest.raises(Exception) as caught:
            render_text(rf"\answer<{B}{{A}}{B}{{x}}><{B}{{x}}><{r}>" + "\n", "markdown")
        assert "this answer cannot be checked" in str(caught.value) and why in str(caught.value)


def test_a_failing_answer_loses_nothing_else_of_the_build(tmp_path: Path) -> None:
    """Every error of every note is reported; the other notes are written; nothing half-written."""
    src = tmp_path / "notes"
    src.mkdir()
    (src / "good.md").write_text(rf"\answer<{B}{{A}}{B}{{x}}><{B}{{x}}><{B}{{A}}>" + "\n", encoding="utf-8")
    bad = "\n\n".join([rf"\answer<{B}{{A}}{B}{{x}}><{B}{{x}}><{B}{{A}}^{{\top}}>",
                       rf"\deriv<{B}{{A}}{B}{{x}}><{B}{{x}}>",
                       rf"\answer<{B}{{X}}^{{\top}}><{B}{{X}}><{B}{{I}}>"]) + "\n"
    (src / "bad.md").write_text(bad, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", str(src), "-o", str(tmp_path / "out"),
                           "--no-cache"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2, done.stderr
    assert re.search(r"bad\.md:1:\d+: error: wrong answer: holds in denominator layout", done.stderr), done.stderr
    assert re.search(r"bad\.md:5:\d+: error: wrong answer: missing the commutation matrix K", done.stderr)
    assert (tmp_path / "out" / "good.md").read_text(encoding="utf-8").count(r"\checkmark") == 1
    assert not (tmp_path / "out" / "bad.md").exists()
    assert (src / "bad.md").read_text(encoding="utf-8") == bad


# ---------------------------------------------------------------- solutions=hide


def _added_lines(source: str, output: str) -> list[str]:
    """The lines of ``output`` that ``source`` does not have."""
    kept = set(source.splitlines())
    return [line for line in output.splitlines() if line not in kept]


def _assert_only_questions(source: str, hidden: str, shown_on_purpose: str = "") -> None:
    """Every line the hidden copy adds is a wrapper or a question followed by blank space."""
    for line in _added_lines(source, hidden):
        body = line.strip()
        if body in ("$$", r"\begin{equation}", r"\end{equation}", r"\begin{aligned}", r"\end{aligned}", ""):
            continue
        if shown_on_purpose and shown_on_purpose in body:
            continue
        question = re.fullmatch(r".*?\\frac\{\\partial(?:\^\{?2\}?)? .+?\}\{\\partial .+?\} &?= (.*?)(?:\$.*|\\\).*)?", body)
        assert question, f"not a question: {line!r}"
        assert HIDDEN_RHS.fullmatch(question.group(1).strip()), f"something besides the blank: {line!r}"
    assert "%" not in "".join(_added_lines(source, hidden)), "a new comment in the student copy"
    assert hidden.count("<!--") == source.count("<!--"), "a new HTML comment in the student copy"
    assert "\\checkmark" not in hidden


def test_the_homework_gives_a_solution_sheet_and_a_student_copy_from_one_source(tmp_path: Path) -> None:
    source = HOMEWORK.read_text(encoding="utf-8")
    [key] = [d.answer for d in scan(source, "latex").directives if d.kind == "answer"]
    show = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", str(HOMEWORK), "--no-cache"],
                          capture_output=True, text=True, timeout=600)
    hide = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", str(HOMEWORK), "--solutions", "hide",
                           "--no-cache"], capture_output=True, text=True, timeout=600)
    assert show.returncode == 0 == hide.returncode, show.stderr + hide.stderr
    assert f"{key} \\quad \\checkmark" in show.stdout and "read off the derivative" in show.stdout
    student = "\n".join(line for line in hide.stdout.splitlines() if "The answer is" not in line)
    assert key not in student and "read the derivative" not in student and "\\otimes" not in student
    _assert_only_questions(source, hide.stdout, shown_on_purpose="The answer is")
    # every question is still asked (one blank per directive but the one that keeps its answer)
    directives = scan(source, "latex").directives
    assert len(re.findall(r"= \\underline", hide.stdout)) == len(directives) - 1 >= 14
    # the exercise that states its answer keeps it (solutions=show on that directive)
    assert "The answer is \\(\\frac{\\partial" in hide.stdout and "\\underline" not in hide.stdout.split(
        "The answer is")[1].split("\n")[0]
    assert not lint_report(hide.stdout, "latex").errors


def test_hidden_solutions_from_front_matter_config_and_directive_options(tmp_path: Path) -> None:
    note = "\n\n".join(["---", "matdiff: {solutions: hide, lang: en}", "---",
                        rf"\deriv<{B}{{A}}{B}{{X}}{B}{{B}}><{B}{{X}}>",
                        rf"Inline $\answer<{B}{{a}}^{{\top}}{B}{{x}}><{B}{{x}}><{B}{{a}}^{{\top}}>$.",
                        rf"\deriv[solutions=show, steps=none]<{B}{{x}}^{{\top}}{B}{{x}}><{B}{{x}}>"]) + "\n"
    out = render_text(note, "markdown")
    assert r"\otimes" not in out and r"\checkmark" not in out
    assert r"\frac{\partial \boldsymbol{a}^{\top}\boldsymbol{x} }{\partial \boldsymbol{x} } = \underline" in out
    assert r"&= 2 \boldsymbol{x}^{\top}" in out  # the directive's own solutions=show wins
    shown = render_text(note.replace("solutions: hide, ", ""), "markdown", solutions="hide")
    assert r"\otimes" not in shown  # from the caller (CLI, MkDocs, Hexo: the site's options)
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "matdiff-tex.toml").write_text('solutions = "hide"\n', encoding="utf-8")
    (folder / "n.md").write_text(rf"\deriv<{B}{{A}}{B}{{X}}{B}{{B}}><{B}{{X}}>" + "\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", str(folder / "n.md"), "--no-cache"],
                          capture_output=True, text=True, timeout=300, cwd=folder)
    assert done.returncode == 0 and r"\underline" in done.stdout and r"\otimes" not in done.stdout, done.stderr
    with pytest.raises(Exception, match="solutions=maybe is not allowed"):
        render_text(rf"\deriv[solutions=maybe]<{B}{{A}}{B}{{X}}><{B}{{X}}>" + "\n", "markdown")


def test_in_place_never_keeps_a_hidden_answer_in_a_marker(tmp_path: Path) -> None:
    """--in-place keeps each directive's source in a comment: a hidden \\answer would be readable there."""
    note = tmp_path / "hw.md"
    with_answer = rf"\answer<{B}{{A}}{B}{{x}}><{B}{{x}}><{B}{{A}}>" + "\n"
    note.write_text(with_answer, encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "matdiff_tex", "render", "--in-place", "--solutions", "hide",
                           str(note), "--no-cache"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 2 and "where a student can read it" in done.stderr, done.stderr
    assert note.read_text(encoding="utf-8") == with_answer

    only_deriv = "Find it:\n\n" + rf"\deriv<{B}{{A}}{B}{{X}}{B}{{B}}><{B}{{X}}>" + "\n"
    once = process_document(only_deriv, "markdown", markers=True, options={"solutions": "hide", "lang": "en"})
    assert not once.errors
    markers = re.findall(r"<!--(.*?)-->", once.text, re.S)
    assert len(markers) == 2 and re.sub(r"<!--.*?-->", "", once.text).count("\\otimes") == 0
    assert all("\\otimes" not in m and "\\top" not in m for m in markers)  # the question only: \deriv<F><X>
    _assert_only_questions(only_deriv, re.sub(r"<!--.*?-->", "", once.text))
    twice = process_document(once.text, "markdown", markers=True, options={"solutions": "hide", "lang": "en"})
    assert twice.text == once.text

    # a teacher's note kept current with --in-place (markers holding each \answer), then the student copy
    # written with -o: the markers and what they keep are gone with the solutions
    note = "Q1\n\n" + with_answer + "\nQ2 $" + with_answer.strip() + "$ ok\n\n" + only_deriv
    kept = process_document(note, "markdown", markers=True, options={"lang": "en"})
    assert not kept.errors and kept.text.count("<!-- matdiff-tex") == 3 and kept.text.count(r"\checkmark") == 2
    student = process_document(kept.text, "markdown", options={"solutions": "hide", "lang": "en"})
    assert not student.errors and "<!--" not in student.text and "\\answer" not in student.text
    _assert_only_questions(note, student.text)


def test_a_warm_cache_never_hands_a_solution_to_the_student_copy(tmp_path: Path) -> None:
    """The same note rendered with the solutions, then hidden, through one cache folder."""
    from matdiff_tex.cache import open_cache

    note = rf"\deriv<{B}{{A}}{B}{{X}}{B}{{B}}><{B}{{X}}>" + "\n\n" + rf"\answer<{B}{{A}}{B}{{x}}><{B}{{x}}><{B}{{A}}>" + "\n"
    cache = open_cache(str(tmp_path / "cache"), enabled=True)
    shown = process_document(note, "markdown", cache=cache, options={"lang": "en"})
    assert r"\otimes" in shown.text and r"\checkmark" in shown.text
    for _ in range(2):  # cold for the hidden copy, then warm
        hidden = process_document(note, "markdown", cache=cache, options={"lang": "en", "solutions": "hide"})
        assert not hidden.errors and r"\otimes" not in hidden.text and r"\checkmark" not in hidden.text
        _assert_only_questions(note, hidden.text)
    again = process_document(note, "markdown", cache=cache, options={"lang": "en"})
    assert again.text == shown.text
