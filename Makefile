# Thin wrappers for the README's two commands; nox sessions are the real interface.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
VENV := .venv
STAMP := $(VENV)/.synced

.PHONY: run test install clean

install: $(STAMP)

# Installs into .tools (uv) and .venv (the project); a failed step removes what it
# made, so the next run starts clean instead of on a half-installed environment.
$(STAMP): pyproject.toml uv.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is needed (found: $$($(PYTHON) --version))"; exit 1; }
	@test -x $(TOOLS)/bin/uv || { \
		$(PYTHON) -m venv $(TOOLS) && $(TOOLS)/bin/pip install --quiet uv==$(UV_VERSION); \
	} || { rm -rf $(TOOLS); exit 1; }
	@$(TOOLS)/bin/uv sync --locked --quiet || { rm -rf $(VENV); exit 1; }
	@touch $(STAMP)

# Development: debug on, and webhooks may go to receivers on this machine over http.
RUN_ENV := DJANGO_DEBUG=1 WEBHOOKS_ALLOW_PRIVATE_NETWORKS=1 WEBHOOKS_ALLOW_HTTP=1

# The worker (webhook deliveries) runs beside the server and stops with it: in a
# session of its own, so Ctrl-C reaches it once, as the SIGTERM of the trap, and it
# finishes the attempt in hand.
run: install
	$(RUN_ENV) $(VENV)/bin/python manage.py migrate --no-input
	@echo "API on http://127.0.0.1:8000/api/ -- docs on http://127.0.0.1:8000/api/docs/"
	@echo "Notifications on ws://127.0.0.1:8000/ws/notifications/?token=<access token>"
	@echo "Webhooks delivered by the worker started beside the server"
	$(RUN_ENV) setsid $(VENV)/bin/python manage.py worker --reload & worker=$$!; \
	trap 'trap - EXIT INT TERM; kill -TERM -$$worker 2>/dev/null; wait $$worker' EXIT INT TERM; \
	$(RUN_ENV) $(VENV)/bin/uvicorn config.asgi:application --host 127.0.0.1 --port 8000 \
		--lifespan off --no-proxy-headers --reload --reload-dir api --reload-dir config

test: install
	$(VENV)/bin/nox -s lint typecheck tests

clean:
	rm -rf $(TOOLS) $(VENV) .nox .pytest_cache .ruff_cache .hypothesis
