# framesift: `make run` sets everything up and runs the main job on a generated sample video;
# `make test` runs lint + the test suite. Both create the virtual environment on first use.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.framesift-installed

.PHONY: venv run test lint bench clean

venv: $(STAMP)

$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip
	$(PIP) install torch==2.14.1 torchvision==0.29.1
	$(PIP) install -e '.[all,dev]'
	# facenet-pytorch pins torch<2.3 in its metadata; its MTCNN code and weights work with newer torch.
	$(PIP) install --no-deps facenet-pytorch==2.6.0
	touch $(STAMP)

sample/.generated: $(STAMP)
	$(VENV)/bin/framesift make-sample --out sample
	touch sample/.generated

run: $(STAMP) sample/.generated
	$(VENV)/bin/framesift run --input sample --config examples/selection.yaml --out workspace

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks

test: lint
	$(VENV)/bin/pytest -q

clean:
	rm -rf workspace sample build
