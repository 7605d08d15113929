"""The action's inputs and outputs. GENERATED from action.yml by scripts/generate_interface.py (make generate); do not edit."""

from __future__ import annotations

from typing import NamedTuple


class Input(NamedTuple):
    name: str
    description: str
    default: str  # as action.yml writes it; `${{ ... }}` is evaluated by GitHub
    required: bool


class Output(NamedTuple):
    name: str
    description: str


INPUTS: tuple[Input, ...] = (
    Input("vendor", "Which vendor runs the tests: aiva, autosana, test-lab, kapptivate or testclix. Required.", "", True),
    Input("api-key", "The vendor's API key (pass it from a secret). Required. Masked in every log line.", "", True),
    Input("api-url", "Base URL of the vendor's API, e.g. a staging host. Default: the vendor's public API (required for kapptivate: your https://<domain>.kapptivate.com).", "", False),
    Input("allow-http", "true: allow a plain http:// api-url to a host other than this machine (the API key then crosses the network unencrypted; for a test server on your own network). Default: false (http:// only to localhost).", "false", False),
    Input("tests", "Test identifiers, comma- or newline-separated (autosana: flow ids; aiva: test ids; test-lab: test plan ids; kapptivate: test ids; testclix: test ids). Default: none.", "", False),
    Input("suites", "Suite identifiers, comma- or newline-separated (autosana: suite ids). Default: none.", "", False),
    Input("variables", "Variables for the run: KEY=VALUE per line or comma-separated, or a JSON object (autosana, aiva, kapptivate). Default: none.", "", False),
    Input("wait", "true: wait for the results; false: trigger, report what was started, and exit. Default: true.", "true", False),
    Input("timeout", "Overall limit for waiting: 90s, 45m, 1h30m or bare seconds. On expiry status is timeout. Default: 30m.", "30m", False),
    Input("poll-interval", "Time between status checks, at least 1s and shorter than timeout (same formats as timeout). Default: 15s.", "15s", False),
    Input("fail-on", "failure: fail the step on failed tests, errors, timeout or cancellation; new-failures: as failure, but failed tests that history-file shows as known or flaky do not fail it (without a history, as failure); error: only on errors and timeout; never: never fail on results. Default: failure.", "failure", False),
    Input("all-skipped", "What a run whose every reported test was skipped ends in: error, or pass (with a warning; e.g. platform-split suites where a job's tests may all be skipped). A run that reports no test at all is always an error. Default: error.", "error", False),
    Input("history-file", "Path, relative to the workspace, of a JSON file holding each test's results in earlier runs (restore and save it with actions/cache). Read before the run, written back after it with this run added; each failure is then labelled new, known or flaky, and a pass that failed before fixed. Default: none (no history).", "", False),
    Input("history-size", "How many runs history-file keeps, 1 to 200 (the oldest are dropped first). Default: 30.", "30", False),
    Input("baseline-branch", "The branch whose earlier runs (in history-file, outside pull requests) this run is compared with. Default: a pull request's base branch, else the current branch.", "", False),
    Input("retry-failed", "Start the run's failed tests again, only those, up to this many rounds (0 to 3) inside timeout; a test that passes on a retry is passed and marked flaky. aiva and testclix only. Default: 0.", "0", False),
    Input("job-summary", "true: write the Markdown job summary; false: do not. Default: true.", "true", False),
    Input("comment", "Pull request comment, created once and then updated in place: off, always, or failures (only when the status is not passed or triggered; an earlier comment is still updated when the run turns green). Default: off.", "off", False),
    Input("github-token", "Token for writing the pull request comment (needs permissions pull-requests: write). Masked in every log line. Default: the workflow's GITHUB_TOKEN.", "${{ github.token }}", False),
    Input("matrix", "The job's matrix values as a JSON object, shown in the comment and keeping one comment per matrix entry. Leave the default. Default: the job's matrix (toJSON(matrix)).", "${{ toJSON(matrix) }}", False),
    Input("junit-file", "Write a JUnit XML report of the results to this path, relative to the workspace (parent folders are created; an existing file is an error). Default: none.", "", False),
    Input("ctrf-file", "Write a CTRF JSON report (https://ctrf.io) of the results to this path, relative to the workspace (parent folders are created; an existing file is an error). Default: none.", "", False),
    Input("summary-template", "Path, relative to the workspace, of your own Jinja template for the job summary (context and filters in docs/reporting.md, Custom templates). Default: the built-in template.", "", False),
    Input("comment-template", "Path, relative to the workspace, of your own Jinja template for the pull request comment (same context and filters). Default: the built-in template.", "", False),
    Input("bundle-id", "autosana: mobile app bundle identifier, with platform. Autosana needs app-id, or bundle-id with platform.", "", False),
    Input("platform", "autosana: ios, android, or chrome-extension (upload only), with bundle-id.", "", False),
    Input("app-id", "autosana: web app identifier, instead of bundle-id and platform. Autosana needs app-id, or bundle-id with platform.", "", False),
    Input("build-path", "autosana: the build to upload before the flows run, relative to the workspace: .apk or .aab (android), .ipa or zipped .app (ios), .zip (chrome-extension). Needs bundle-id and platform. Default: none (run against the build Autosana has).", "", False),
    Input("app-url", "autosana: URL of a deployed web build (a preview) to register before the flows run, with app-id. A user:password in it is sent to Autosana, masked, and shown nowhere. Default: none.", "", False),
    Input("app-name", "autosana: the app's display name, sent as name with the upload or registration; Autosana renames an app that exists to it. Default: none sent (the app keeps its name).", "", False),
    Input("environment", "autosana: the Autosana environment to upload or register the build to and run the flows in (not for chrome-extension). Default: Autosana's own.", "", False),
    Input("web-browser", "autosana, web only: chrome, chromium, firefox or edge (msedge means edge). Default: Autosana's own.", "", False),
    Input("dependencies", "autosana, web only: JSON array of the app ids this web app depends on, or {\"app_id\": ..., \"app_build_id\": ...} pins; [] means none. Default: Autosana's own.", "", False),
    Input("ios-keychain-remapping", "autosana, .ipa on ios only: true or false, whether Autosana remaps the keychain access group when it re-signs the build. Default: Autosana's own.", "", False),
    Input("devices", "kapptivate: JSON object of the devices the tests run on (sent as each test's direct_owners), e.g. {\"your_device\": \"your_device_name\"}. Required for kapptivate.", "", False),
    Input("variable-group-id", "kapptivate: id of the variable group to use (a whole number, from the group's URL). Default: none.", "", False),
    Input("run-name", "kapptivate: name of the test run. Default: '<workflow> #<run number> <short sha>'.", "", False),
    Input("labels", "Labels selecting what to run, comma- or newline-separated (aiva: batch labels, also ;-separated; test-lab: one label, instead of tests or project-id; autosana: every suite and flow carrying any of them). Default: none.", "", False),
    Input("test-names", "aiva: test names, one run each; one per line (a name may then contain commas) or comma-separated. Combines with tests, not with labels. Default: none.", "", False),
    Input("gateway", "aiva: name of the gateway the tests run through (gatewayName), e.g. for an internal network. Default: none (no gateway).", "", False),
    Input("max-agents", "aiva, with labels only: most agents the batch runs tests on at once (a whole number of at least 1). Default: 1, as AIVA's own tools send.", "", False),
    Input("batch-name", "aiva, with labels only: name of the batch. Default: none (AIVA names it).", "", False),
    Input("variables-per-test", "aiva, with labels only: JSON object of test id -> object of variables overriding variables for that test. Default: none.", "", False),
    Input("project-id", "test-lab: run every test plan of this project (a number), instead of tests or labels. Default: none.", "", False),
    Input("test-type", "test-lab: quickTest or deepTest. Default: each plan's own default.", "", False),
    Input("build-id", "test-lab: CI build identifier sent with the run, at most 100 characters. Default: the commit under test (the checked-out commit, or the pull request's head commit).", "", False),
    Input("cookies", "test-lab: JSON array of {name, value, domain} cookies to inject; pass it from a secret, the values are masked. Default: none.", "", False),
)

OUTPUTS: tuple[Output, ...] = (
    Output("status", "passed, failed, error, timeout, cancelled, triggered, or uploaded (a build was uploaded or registered and nothing asked to run)."),
    Output("total", "Number of tests reported."),
    Output("passed", "Number of passed tests."),
    Output("failed", "Number of failed tests."),
    Output("errored", "Number of tests that errored (crashed, terminated, failed to start)."),
    Output("skipped", "Number of skipped tests."),
    Output("pending", "Number of tests not finished when the action stopped waiting."),
    Output("run-ids", "The vendor's run, batch or job ids, comma-separated."),
    Output("run-url", "Link to the run in the vendor's web app, when the vendor gives one."),
    Output("duration", "Seconds from trigger to the end of waiting."),
    Output("results", "Compact JSON of the normalized results (vendor, status, reason, counts, run ids, problems, tests, tests_omitted), at most 256 KiB: failed tests are kept first."),
    Output("summary", "The Markdown summary, as written to the job summary (shortened to at most 128 KiB)."),
    Output("junit-file", "The workspace-relative path of the JUnit XML report written, or empty when none was asked for or it could not be written."),
    Output("ctrf-file", "The workspace-relative path of the CTRF JSON report written, or empty when none was asked for or it could not be written."),
    Output("build-id", "autosana: the id Autosana gave the build the action uploaded or registered (app_build_id), or empty when none."),
    Output("new-failures", "Number of failed or errored tests that are new: not explained by the baseline branch's earlier runs (0 without history-file)."),
    Output("known-failures", "Number of failed or errored tests that failed at their last baseline run too (0 without history-file)."),
    Output("flaky", "Number of tests marked flaky: failed now and flipping between pass and fail on the baseline, or passed only on a retry."),
    Output("fixed", "Number of tests that passed now and failed at their last baseline run (0 without history-file)."),
    Output("failed-tests", "The failed and errored tests' stable identities, comma-separated (aiva and testclix: test ids, or names for tests started by name; usable as tests for a re-run)."),
)
