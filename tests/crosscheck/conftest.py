"""The crosscheck tests' shared fixture: their expected sentences are English, so the
command lines under test must not pick Chinese up from the machine's locale
(crosscheck/messages/: a LC_ALL, LC_MESSAGES or LANG starting with zh selects it).
A test of the Chinese edition sets its own environment, or passes --lang / lang=."""

from __future__ import annotations

import pytest

from crosscheck.messages import env_lang


@pytest.fixture(autouse=True)
def _english_locale(monkeypatch):
    """On a machine whose locale is Chinese, the environment without its locale
    variables (the child processes the tests start inherit it); elsewhere unchanged."""
    if env_lang() == "zh":
        for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
            monkeypatch.delenv(key, raising=False)
