"""The API documentation page (/docs) in headless Chromium: served from the web client's build under
the same strict policy, it renders every operation of /openapi.json and asks nothing of any other
origin (no CDN), with no script error and no policy violation."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

pytestmark = [pytest.mark.integration, pytest.mark.browser]


def test_docs_page_is_served_from_the_build_with_the_strict_policy(web_system):
    page = requests.get(web_system.url + "/docs", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assets = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert assets and all(asset.startswith("/assets/") for asset in assets), assets
    for asset in assets:
        assert requests.get(web_system.url + asset, timeout=10).status_code == 200, asset


def test_docs_page_renders_every_operation_from_this_origin_only(web, web_system):
    spec = requests.get(web_system.url + "/openapi.json", timeout=10).json()
    operations = sum(len(methods) for methods in spec["paths"].values())
    elsewhere: list[str] = []
    violations: list[str] = []
    web.page.on(
        "request",
        lambda request: None if request.url.startswith((web_system.url, "data:")) else elsewhere.append(request.url),
    )
    web.page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    web.page.goto("/docs")
    expect(web.page.locator(".opblock")).to_have_count(operations)
    expect(web.page.locator(".opblock-summary-path").first).to_be_visible()
    expect(web.page.get_by_text("/jobs/{job_id}/events", exact=True)).to_be_visible()
    web.screenshot("api-docs")
    assert web.errors == [] and violations == [] and elsewhere == []
