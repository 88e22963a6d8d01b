"""End-to-end tests: the example project under gunicorn, driven by Chromium through Playwright."""
