# One-word commands for developers and CI. `make test` is the whole gate.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
IMAGE ?= suiterun-action:dev
SANDBOX_PORT ?= 8765
ACT ?= $(shell command -v act 2>/dev/null || echo /opt/act-venv/bin/act)

.PHONY: venv lock generate lint check test demo e2e bench image clean golden

venv: $(BIN)/.installed

$(BIN)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

lock: venv  ## re-pin requirements.txt (with hashes, every platform) after changing requirements.in
	$(BIN)/uv pip compile --quiet --generate-hashes --universal --python-version 3.11 --no-header requirements.in -o requirements.txt.new
	{ sed -n 1,2p requirements.txt; cat requirements.txt.new; } > requirements.txt && rm requirements.txt.new

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/actionlint
	$(BIN)/zizmor --quiet --offline --min-severity medium .
	$(BIN)/hadolint Dockerfile

# The quick tier, after every change: lint and the tests that need no socket and no subprocess (any that does fails here).
check: lint
	$(BIN)/pytest -q -p no:xdist -m "not io" --forbid-io

# The whole gate. Four workers on two cores: many tests wait on a subprocess or a socket, not on the CPU.
test: lint
	$(BIN)/pytest -n 4 --dist loadgroup

golden: venv  ## rewrite the golden summaries after an intended template change
	UPDATE_GOLDEN=1 $(BIN)/pytest tests/test_render.py

demo: venv
	$(BIN)/python scripts/demo.py --image $(IMAGE)

image:
	docker build -t $(IMAGE) .

ACT_RUNNER ?= -P ubuntu-latest=local/act-runner:bookworm --pull=false

# e2e-reporting.yml runs on a pull request event; the script adds act's --env GITHUB_API_URL (a free port for the fake GitHub API).
# act keeps /opt/hostedtoolcache in a volume across runs: a tool cache in the job's own /tmp makes the composite
# variant's first use build its environment every time (as on a fresh GitHub-hosted runner) and the later ones reuse it.
# act cannot fetch the actions/cache the composite variant pins: tests/e2e/actions-cache stands in for it.
CACHE_ACTION := $(shell sed -n 's|.*uses: \(actions/cache\)/restore@\([0-9a-f]*\).*|\1@\2|p' composite/action.yml)
e2e:
	$(ACT) workflow_dispatch -W .github/workflows/e2e.yml $(ACT_RUNNER)
	$(ACT) workflow_dispatch -W .github/workflows/e2e-composite.yml --matrix os:ubuntu-latest --env RUNNER_TOOL_CACHE=/tmp/toolcache \
		--local-repository $(CACHE_ACTION)=$(CURDIR)/tests/e2e/actions-cache $(ACT_RUNNER)
	$(PYTHON) scripts/e2e_reporting_check.py --act $(ACT) pull_request -e tests/e2e/pull_request.json -W .github/workflows/e2e-reporting.yml $(ACT_RUNNER)
	$(ACT) workflow_dispatch -W .github/workflows/e2e-history.yml --env RUNNER_TOOL_CACHE=/tmp/toolcache \
		--local-repository $(CACHE_ACTION)=$(CURDIR)/tests/e2e/actions-cache $(ACT_RUNNER)

bench: venv
	$(BIN)/python scripts/benchmark.py --image $(IMAGE)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

generate: venv  ## after changing action.yml: regenerate composite/action.yml and suiterun/interface.py
	$(BIN)/python scripts/generate_interface.py
