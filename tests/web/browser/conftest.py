"""The browser fixture every browser test module uses: one headless Debian Chromium per module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser

from tests.web.browser.kit import launch


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    yield from launch()
