# Two commands do all the set-up: `make run` and `make test` (each installs into .venv first).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt constraints.txt | sha1sum | cut -c1-12)
export AWS_DEFAULT_REGION ?= us-east-1

.PHONY: install run test lint typecheck unit functional e2e bytecode template package deploy destroy \
	bench diagram clean train-classifier

$(STAMP): requirements.txt requirements-dev.txt constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	rm -f $(VENV)/.installed-* && touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) -m infra.local

test: install lint typecheck
	$(PY) -m pytest -n 2 --dist loadfile

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

typecheck: install
	$(VENV)/bin/mypy

unit: install
	$(PY) -m pytest tests/unit

functional: install
	$(PY) -m pytest tests/functional

e2e: install
	$(PY) -m pytest tests/e2e

# The Lambda package ships bytecode (checked against each source's hash, so a zip's mtimes do not
# matter and an edited source is never served stale): Lambda's file system is read-only, so
# without it every cold start compiles every module again.
bytecode: install
	$(PY) -m compileall -q --invalidation-mode checked-hash app.py chalicelib

# infra/template.json is generated from infra/template.base.json, the departments catalog and the
# roles (infra/template.py); the generated file is committed, and a test fails if it drifts.
template: install
	$(PY) -m infra.template --write

package: bytecode
	$(PY) -m infra.template --check
	rm -rf build && $(VENV)/bin/chalice package --pkg-format cloudformation --template-format json \
		--merge-template infra/template.json build/
	$(VENV)/bin/cfn-lint build/sam.json
	@echo "SAM template: build/sam.json (deploy: see README)"

# Deploying (README, "Deploying to AWS"): the AWS CLI with credentials, and an S3 bucket for the
# Lambda package. Parameters left empty keep their default on a first deploy and their current
# value on a redeploy.
STACK ?= complaint-tickets
SLA ?=
ORIGINS ?=
ALARM_EMAIL ?=
OVERRIDES = $(if $(SLA),SlaPolicy=$(SLA)) $(if $(ORIGINS),'AllowedOrigins=$(ORIGINS)') \
	$(if $(ALARM_EMAIL),AlarmEmail=$(ALARM_EMAIL))

deploy:
	@test -n "$(BUCKET)" || { echo "usage: make deploy BUCKET=<artifact bucket> [STACK=$(STACK)]" \
		"[SLA=default|training_manual|gansu|demo_seconds] [ORIGINS=https://desk.example.com]" \
		"[ALARM_EMAIL=ops@example.com]"; exit 2; }
	$(MAKE) package
	aws cloudformation package --template-file build/sam.json --s3-bucket $(BUCKET) \
		--output-template-file build/packaged.json
	aws cloudformation deploy --template-file build/packaged.json --stack-name $(STACK) \
		--capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND --no-fail-on-empty-changeset \
		$(if $(strip $(OVERRIDES)),--parameter-overrides $(OVERRIDES))
	aws cloudformation describe-stacks --stack-name $(STACK) --query 'Stacks[0].Outputs' \
		--output table

# Deletes the stack but not its tables (DeletionPolicy Retain): docs/decisions/0012-deployment.md.
destroy:
	aws cloudformation delete-stack --stack-name $(STACK)
	aws cloudformation wait stack-delete-complete --stack-name $(STACK)
	@echo "Stack $(STACK) deleted. Its DynamoDB tables are kept (and a new deploy under the same" \
		"name fails until they are gone): delete them with" \
		"'for t in tickets events audit idempotency blacklist notices; do aws dynamodb" \
		"delete-table --table-name $(STACK)-\$$t; done' once you no longer need the data."

# The classifier is a model shipped as data (docs/decisions/0021-trained-classifier.md): retrain it
# after editing the corpus (tests/data/classifier/train/) or the catalog's keywords; a unit test
# fails while the committed model no longer matches them.
train-classifier: install
	$(PY) -m bench.train_classifier

bench: bytecode
	$(PY) -m bench

diagram: install
	$(PY) -m infra.diagram --write README.md

clean:
	rm -rf build .local .pytest_cache .mypy_cache .ruff_cache

# issue 13 (calendar): which years lack official holiday data (exit 1 when some do); a year's
# arrangement goes in chalicelib/catalog/calendar/<year>.json (see the README there).
.PHONY: calendar-check
calendar-check: install
	$(PY) -m infra.calendar_check $(if $(FROM),--from $(FROM)) $(if $(TO),--to $(TO))
