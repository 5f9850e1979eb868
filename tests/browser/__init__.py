"""The documentation pages in a real browser: Debian's Chromium, driven by Playwright.

CI installs Chromium (.ci/run); elsewhere the tests marked `browser` skip without it.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
