"""The rendered job summary: golden files (regenerate with `make golden`), user templates, and size limits."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import pytest

from sandbox.scenarios import INJECTION_MESSAGE, INJECTION_NAME
from sandbox.server import SandboxServer
from suiterun.context import CIContext
from suiterun.render import (
    COMMENT_LIMIT,
    SUMMARY_LIMIT,
    SUMMARY_TEMPLATE,
    SizeLimit,
    TemplateError,
    TemplateSource,
    fit,
    render,
    renderer,
    template_context,
)
from suiterun.render import render_summary as render_builtin
from suiterun.results import BuildUnderTest, Comparison, Detail, Outcome, RunStatus, Snapshot, TestResult, TestStatus, Verdict
from tests.contract import Case, run_case

GOLDEN = Path(__file__).parent / "golden"
IF_REAL = '{% if vendor == "Autosana" %}'  # true for a run, false for the sample results a template is checked with
RECURSIVE = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"
GITHUB = CIContext(workspace=Path("/github/workspace"), repository="acme/shop", run_id="4242", run_attempt="1", workflow="CI", job="e2e")
RUN_URL = "https://app.vendor.example/runs/r-1"

LOGIN = TestResult("Login", TestStatus.PASSED, id="t-1", url="https://app.vendor.example/t/1", duration=12.0, message="Logged in.", group="Smoke")
CHECKOUT = TestResult(
    "Checkout with expired card",
    TestStatus.FAILED,
    id="t-2",
    url="https://app.vendor.example/t/2",
    duration=75.5,
    message="Expected 'Card expired' but the page stayed blank.",
    group="Payments",
    details=(
        Detail("Summary", "The payment page never rendered."),
        Detail("Failing step", "Tap 'Pay'", "https://cdn.vendor.example/shot.png"),
    ),
)
RESET = TestResult("Reset password", TestStatus.ERRORED, id="t-3", message="The app crashed.", group="Smoke")
SHOT = "https://cdn.vendor.example/runs/r-9/step-3-annotated.png?Expires=1700000000&Signature=abc"
CHECKOUT_WITH_SHOT = TestResult(
    "Checkout",
    TestStatus.FAILED,
    id="r-9",
    url="https://app.vendor.example/t/9",
    message="The Pay button did nothing.",
    details=(Detail("Failing step", "step 3 (tap, failed): Tap 'Pay'", SHOT, image=SHOT),),
)
HEAD = "1111111111111111111111111111111111111117"
APK = BuildUnderTest("app-release.apk", "build-42", 48_234_496, HEAD, "feature/cart")
PREVIEW = BuildUnderTest("https://preview-17.shop.example", "build-43", None, HEAD, "feature/cart")

# A run compared with its history: a new, a known and a flaky failure, a fix, and a pass on a retry.
LABELLED = (
    replace(LOGIN, identity="t-1", baseline="PPPPP"),
    replace(CHECKOUT, identity="t-2", history="new", baseline="PPPPP"),
    replace(RESET, identity="t-3", history="known", baseline="PPPFF"),
    TestResult("Search", TestStatus.FAILED, id="t-4", message="No results.", identity="t-4", history="flaky", baseline="PFPFPP"),
    TestResult("Pay", TestStatus.PASSED, id="t-5", identity="t-5", history="fixed", baseline="PPPFE"),
    TestResult("Cart", TestStatus.PASSED, id="t-6", identity="t-6", history="flaky", retries=1, attempts=("Spinner never stopped.",)),
)

OUTCOMES = {
    "passed": Outcome("Autosana", Verdict(RunStatus.PASSED, "1 test passed"), Snapshot((LOGIN,), True, ("r-1",), RUN_URL), 83.0),
    "mixed-with-details": Outcome(
        "Autosana",
        Verdict(RunStatus.FAILED, "2 of 3 tests failed"),
        Snapshot((LOGIN, CHECKOUT, RESET), True, ("r-1", "r-2"), RUN_URL),
        125.0,
        ("Autosana reported the status 'weird', which this action does not know.",),
    ),
    "error": Outcome("AIVA", Verdict(RunStatus.ERROR, "AIVA rejected the API key (HTTP 401): check the secret in input 'api-key'.")),
    "timeout": Outcome(
        "Kapptivate",
        Verdict(RunStatus.TIMEOUT, "timed out with 1 of 2 tests finished, 0 failed after 5m (input 'timeout')"),
        Snapshot((LOGIN, TestResult("Search", TestStatus.PENDING)), False, ("77",)),
        300.0,
    ),
    "triggered": Outcome(
        "Test-Lab",
        Verdict(RunStatus.TRIGGERED, "started 2 runs; not waiting for results"),
        Snapshot(
            (TestResult("Plan 7", TestStatus.PENDING, id="job-1"), TestResult("Plan 8", TestStatus.PENDING, id="job-2")), False, ("job-1", "job-2")
        ),
        1.0,
        ("Test-Lab's API cannot report results, so the action reports what it started.",),
    ),
    "uploaded": Outcome(
        "Autosana",
        Verdict(RunStatus.UPLOADED, "uploaded app-release.apk as build build-42; no tests, suites or labels to run"),
        Snapshot(done=True, build=APK),
        14.0,
        ("Autosana: The build's version code is lower than the last build's",),
    ),
    "web-build-with-screenshot": Outcome(
        "Autosana",
        Verdict(RunStatus.FAILED, "1 of 2 tests failed"),
        Snapshot((LOGIN, CHECKOUT_WITH_SHOT), True, ("batch-1",), RUN_URL, build=PREVIEW),
        95.0,
    ),
    "history": Outcome(
        "AIVA",
        Verdict(RunStatus.FAILED, "3 of 6 tests failed"),
        Snapshot(LABELLED, True, ("r-1",), RUN_URL),
        140.0,
        ("Cart passed only on a retry: it is flaky.",),
        Comparison("main", 12, new=1, known=1, flaky=2, fixed=1),
    ),
    "injection": Outcome(
        "Autosana",
        Verdict(RunStatus.FAILED, "1 of 2 tests failed; group a|b ended in error"),
        Snapshot(
            (LOGIN, TestResult(INJECTION_NAME, TestStatus.FAILED, url="javascript:alert(1)", message=INJECTION_MESSAGE)),
            True,
            ("<script>",),
            "https://x.example/a) [evil](https://evil.example",
            ("group a|b <b>ended</b> in error @here",),
        ),
        9.0,
    ),
}


def render_summary(outcome: Outcome, github: CIContext = GITHUB, *, matrix: dict[str, str] | None = None) -> str:
    return render_builtin(outcome, github, matrix=matrix)


@pytest.mark.parametrize("name", list(OUTCOMES))
def test_summary_matches_its_golden_file(name: str) -> None:
    rendered = render_summary(OUTCOMES[name])
    golden = GOLDEN / f"{name}.md"
    if os.environ.get("UPDATE_GOLDEN"):
        golden.parent.mkdir(exist_ok=True)
        golden.write_text(rendered, encoding="utf-8")
    assert rendered == golden.read_text(encoding="utf-8"), f"run `make golden` if this change to {golden.name} is intended"


def test_summary_layout_has_blank_lines_between_blocks() -> None:
    rendered = render_summary(OUTCOMES["passed"])
    assert "Run ids: r-1\n\n### Tests\n" in rendered
    detailed = render_summary(OUTCOMES["mixed-with-details"])
    assert "([link](https://cdn.vendor.example/shot.png))\n\n[Open this test in Autosana](https://app.vendor.example/t/2)\n\n" in detailed
    assert "\n\n\n" not in rendered + detailed
    shot = render_summary(OUTCOMES["web-build-with-screenshot"])
    assert "on feature/cart\n\n🔗 [Open the run" in shot and 'alt="screenshot"></a>\n\n[Open this test' in shot
    assert all("\n\n\n" not in render_summary(outcome) for outcome in OUTCOMES.values())


def test_a_rerun_and_a_matrix_entry_are_named_in_the_heading() -> None:
    github = CIContext(workspace=Path("."), repository="acme/shop", run_id="1", run_attempt="3", action="checkout")
    heading = render_summary(OUTCOMES["passed"], github, matrix={"os": "ios", "app": "shop|x"}).splitlines()[0]
    assert heading == "## ✅ Autosana · checkout (app: shop\\|x, os: ios): passed (attempt 3)"
    unnamed = CIContext(workspace=Path("."), action="__suiterun_ai-test-suites")
    assert render_summary(OUTCOMES["passed"], unnamed).splitlines()[0] == "## ✅ Autosana: passed"


def many_tests(count: int, message_length: int) -> Snapshot:
    tests = tuple(
        TestResult(
            f"Generated test {n:04d}",
            TestStatus.FAILED if n % 4 == 0 else TestStatus.PASSED,
            url=f"https://app.vendor.example/t/{n}",
            duration=float(n),
            message=f"step {n} " + "x" * message_length,
            details=(Detail("Summary", "y" * 1000), Detail("Failing step", "z" * 1000, "https://cdn.vendor.example/s.png")) if n % 4 == 0 else (),
        )
        for n in range(count)
    )
    return Snapshot(tests, True, ("r-1",), RUN_URL)


def test_two_thousand_tests_with_long_messages_fit_the_summary_and_comment_limits() -> None:
    outcome = Outcome("Autosana", Verdict(RunStatus.FAILED, "500 of 2000 tests failed"), many_tests(2000, 3000), 600.0)
    summary = render_summary(outcome)
    assert SUMMARY_LIMIT.measure(summary) <= SUMMARY_LIMIT.most
    assert "Shortened to fit GitHub's size limit" in summary and f"[Open the run in Autosana]({RUN_URL})" in summary
    assert "Generated test 0000" in summary  # failures are kept longest
    rows = [line for line in summary.splitlines() if line.startswith(("| ❌", "| ✅"))]
    assert rows and all(row.startswith("| ❌") for row in rows)  # passed rows went first

    comment = fit(renderer(TemplateSource.builtin(SUMMARY_TEMPLATE)), template_context(outcome, GITHUB), COMMENT_LIMIT)
    assert len(comment) <= COMMENT_LIMIT.most
    assert "Shortened to fit GitHub's size limit" in comment and "tests are not listed" in comment


def test_a_template_too_long_even_without_tests_is_cut_with_a_note(tmp_path: Path) -> None:
    (tmp_path / "big.md.j2").write_text("{{ 'word ' * 100000 }}", encoding="utf-8")
    source = TemplateSource.choose(SUMMARY_TEMPLATE, Path("big.md.j2"), input_name="summary-template", workspace=tmp_path)
    limit = SizeLimit(5000, "bytes")
    text = fit(renderer(source), template_context(OUTCOMES["passed"], GITHUB), limit)
    assert limit.measure(text) <= 5000
    assert text.endswith(f"**Cut to fit GitHub's limit of 5,000 bytes.** Open the run: {RUN_URL}\n")


def test_inline_screenshots_are_dropped_first_when_the_summary_is_too_long() -> None:
    failures = tuple(replace(CHECKOUT_WITH_SHOT, name=f"Checkout {n}", id=f"r-{n}") for n in range(40))
    outcome = Outcome("Autosana", Verdict(RunStatus.FAILED, "40 tests failed"), Snapshot(failures, True, ("batch-1",), RUN_URL))
    render_text = renderer(TemplateSource.builtin(SUMMARY_TEMPLATE))
    context = template_context(outcome, GITHUB)
    full = render_text(context)
    assert full.count("<img ") == 40
    text = fit(render_text, context, SizeLimit(len(full) - 1, "characters"))
    assert "<img " not in text and "Shortened" not in text  # every failure is still there, with its screenshot as a link
    assert text.count("#### ❌ Checkout ") == 40 and text.count(f"([link]({SHOT}))") == 40


def test_a_small_run_is_never_shortened() -> None:
    assert "Shortened" not in render_summary(OUTCOMES["mixed-with-details"])


def test_autosana_many_scenario_keeps_the_summary_and_outputs_within_limits(sandbox: SandboxServer, tmp_path: Path) -> None:
    run = run_case("autosana", Case("many", "failed", 1), sandbox, tmp_path)
    assert run.outputs["total"] == "2000" and run.outputs["failed"] == "200"
    assert SUMMARY_LIMIT.measure(run.summary) <= SUMMARY_LIMIT.most
    assert len(run.outputs["summary"].encode("utf-8")) <= 128 * 1024
    assert len(run.outputs["results"].encode("utf-8")) <= 256 * 1024
    results = run.results
    assert len(results["tests"]) + results["tests_omitted"] == 2000
    assert all(test["status"] == "failed" for test in results["tests"][:200])  # failures first
    # The log names the first failures as annotations, then one notice for the rest.
    assert sum(line.startswith("::error title=Generated test") for line in run.log.splitlines()) == 9
    assert "::notice title=Autosana%3A 191 more failures::191 more failed Autosana tests are not annotated" in run.log


def write_template(tmp_path: Path, text: str, name: str = "ci/summary.md.j2") -> str:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return name


def test_a_user_summary_template_gets_the_documented_context_and_filters(sandbox: SandboxServer, tmp_path: Path) -> None:
    name = write_template(
        tmp_path,
        "# {{ vendor | md }} {{ status | icon }} {{ counts.failed }}/{{ counts.total }} in {{ duration | duration }}\n"
        "{% for test in failures %}- [{{ test.name | md }}]({{ test.url | url }}) {{ test.status }}\n{% endfor %}"
        "{{ github.repository }} attempt {{ github.run_attempt }} {{ omitted.tests }} {{ matrix }}\n",
    )
    run = run_case("autosana", Case("mixed", "failed", 1, inputs={"summary-template": name}), sandbox, tmp_path)
    assert run.outputs["status"] == "failed"
    assert run.summary.startswith("# Autosana ❌ 1/4 in ")
    assert "- [Checkout with expired card](https://" in run.summary and ") errored\n" in run.summary
    assert "acme/shop attempt 1 0 {}" in run.summary
    assert run.outputs["summary"].rstrip("\n") == run.summary.rstrip("\n")


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        # Each fails only with the run's own data (the check before the run renders sample results of "Sample vendor").
        (
            IF_REAL + "line one\n{{ counts.total }}\n{{ nope }}\n{% endif %}",
            "Input 'summary-template': ci/summary.md.j2 line 3: 'nope' is undefined (UndefinedError).",
        ),
        (
            IF_REAL + "ok\n\n{{ counts.total / 0 }}{% endif %}",
            "Input 'summary-template': ci/summary.md.j2 line 3: division by zero (ZeroDivisionError).",
        ),
        (IF_REAL + "a\n{{ vendor.__class__.__mro__ }}{% endif %}", "Input 'summary-template': ci/summary.md.j2 line 2:"),
        (IF_REAL + RECURSIVE + "{% endif %}", "Input 'summary-template': ci/summary.md.j2 line 1: it calls itself without end"),
    ],
)
def test_a_template_failing_at_render_time_is_one_line_and_the_builtin_summary_explains(
    template: str, expected: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    name = write_template(tmp_path, template)
    run = run_case("autosana", Case("pass", "error", 2, inputs={"summary-template": name}), sandbox, tmp_path)
    assert run.outputs["status"] == "error" and run.exit_code == 2
    assert run.requests  # the run itself happened: only the summary failed
    assert run.results["reason"].startswith(expected), run.results["reason"]
    error_lines = [line for line in run.log.splitlines() if line.startswith("::error")]
    assert len(error_lines) == 1 and expected.split(" line", maxsplit=1)[0] in error_lines[0]
    assert run.summary.startswith("## 🛑 Autosana: error") and "ci/summary.md.j2 line" in run.summary
    assert run.outputs["total"] == "3"  # the run itself was read; the report keeps it
    assert "Traceback" not in run.log


def test_a_sandbox_escape_is_a_security_error(tmp_path: Path) -> None:
    write_template(tmp_path, "{{ vendor.__class__.__mro__[1].__subclasses__() }}")
    source = TemplateSource.choose(SUMMARY_TEMPLATE, Path("ci/summary.md.j2"), input_name="summary-template", workspace=tmp_path)
    with pytest.raises(
        TemplateError, match=r"ci/summary.md.j2 line 1: access to attribute '__class__' of 'str' object is unsafe \(SecurityError\)\."
    ):
        render(source, template_context(OUTCOMES["passed"], GITHUB))


@pytest.mark.parametrize(
    ("files", "value", "expected"),
    [
        ({"ci/summary.md.j2": "a\n{% for x in tests %}\n"}, "ci/summary.md.j2", "ci/summary.md.j2 line 2: Unexpected end of template"),
        ({}, "ci/missing.md.j2", "the template 'ci/missing.md.j2' is not in the workspace"),
        ({}, "../outside.md.j2", "leads outside it"),
        # Found by rendering sample results before the run, so no vendor run is spent on a template that cannot work.
        ({"ci/summary.md.j2": "a\n{{ nope }}"}, "ci/summary.md.j2", "ci/summary.md.j2 line 2: 'nope' is undefined (UndefinedError)"),
        (
            {"ci/summary.md.j2": "ok\n{% include 'ci/part.md.j2' %}"},
            "ci/summary.md.j2",
            "ci/summary.md.j2 line 2 includes 'ci/part.md.j2', which is not in the workspace",
        ),
        (
            {"ci/summary.md.j2": RECURSIVE},
            "ci/summary.md.j2",
            "ci/summary.md.j2 line 1: it calls itself without end (maximum recursion depth exceeded)",
        ),
        ({"ci/summary.md.j2": "{{ 'x' * 10000000 }}"}, "ci/summary.md.j2", "is too large (OverflowError)"),
    ],
)
def test_a_broken_or_missing_template_stops_the_step_before_any_run(
    files: dict[str, str], value: str, expected: str, sandbox: SandboxServer, tmp_path: Path
) -> None:
    for name, text in files.items():
        write_template(tmp_path, text, name)
    run = run_case("autosana", Case("pass", "error", 2, inputs={"summary-template": value}), sandbox, tmp_path)
    assert run.outputs["status"] == "error" and run.exit_code == 2
    assert "Input 'summary-template'" in run.log and expected in run.log
    assert run.requests == []
    assert "## 🛑 Autosana: error" in run.summary


def test_the_comment_template_input_is_checked_the_same_way(sandbox: SandboxServer, tmp_path: Path) -> None:
    name = write_template(tmp_path, "{% if %}", "ci/comment.md.j2")
    run = run_case("autosana", Case("pass", "error", 2, inputs={"comment-template": name}), sandbox, tmp_path)
    assert "Input 'comment-template': ci/comment.md.j2 line 1:" in run.log
    assert run.requests == []
