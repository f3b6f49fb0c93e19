"""The message catalog: every sentence a student or teacher reads from
``check_backprop``, ``crosscheck mine`` and ``crosscheck grade``, in English and in
Simplified Chinese.

    crosscheck/messages/__init__.py   selection (lang=, --lang, LC_ALL/LC_MESSAGES/LANG)
                                      and formatting: msg("diag.half", what="dW2", at="")
    crosscheck/messages/en.py         MESSAGES: message id -> English template
    crosscheck/messages/zh.py         MESSAGES: the same ids -> Chinese template

A template is a ``str.format`` string whose fields are named (``{what}``, ``{n}``,
``{eta:.3g}``); both languages of one id have the same fields
(tests/crosscheck/test_messages.py checks it, and that every id is used). The catalogs
are Python modules, not data files: they ship with the package as code does (no
package-data to declare), ruff checks them, and a missing comma is an import error, not
a wrong sentence at run time.

What stays as it is in every language: the table (headers, row labels such as dW1 and
delta2, numbers), the equation labels (BP1-BP4, LS1, ...), code and flags, and the
verdict tokens that start a line (PASS, FAIL, CRASH, NONFINITE, MATCH, MISMATCH, ERROR),
which scripts read.

Which language: the functions take ``lang`` ("en" or "zh"). In Python, ``lang=None``
(the default) is English whatever the environment: a doctest, a saved notebook or a
grading script prints the same on every machine, and Chinese is one argument away. The
command lines (``crosscheck mine``, ``crosscheck grade``) take ``--lang``; without it
they follow the environment as command-line tools do: the first set of LC_ALL,
LC_MESSAGES, LANG (POSIX's precedence) starting with "zh" selects Chinese
(:func:`env_lang`).
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar

from . import en, zh

__all__ = ["LANGS", "check_lang", "env_lang", "language", "matches", "msg"]

LANGS = ("en", "zh")
CATALOGS: dict[str, dict[str, str]] = {"en": en.MESSAGES, "zh": zh.MESSAGES}

# the language of the sentences being made; check_backprop sets it for its call
_current: ContextVar[str] = ContextVar("crosscheck_lang", default="en")


def check_lang(lang, name: str = "lang") -> str:
    """``lang`` checked: "en" or "zh" (None: "en"); a ValueError naming ``name``
    otherwise."""
    if lang is None:
        return "en"
    if not isinstance(lang, str) or lang not in LANGS:
        raise ValueError(f"{name}: expected one of {list(LANGS)}, got {lang!r}")
    return lang


def env_lang(environ: Mapping[str, str] | None = None) -> str:
    """The language the environment asks for: "zh" when the first non-empty of LC_ALL,
    LC_MESSAGES and LANG (POSIX's precedence) starts with "zh" (zh_CN.UTF-8, zh_TW,
    zh), else "en"."""
    import os

    env = os.environ if environ is None else environ
    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = env.get(key)
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def current() -> str:
    """The language sentences are made in now ("en" outside any :func:`language`)."""
    return _current.get()


@contextmanager
def language(lang) -> Iterator[str]:
    """Make every :func:`msg` inside the ``with`` block in ``lang`` (checked)."""
    token = _current.set(check_lang(lang))
    try:
        yield _current.get()
    finally:
        _current.reset(token)


def msg(msg_id: str, /, **fields) -> str:
    """Message ``msg_id`` in the current language, its fields filled in."""
    return CATALOGS[_current.get()][msg_id].format(**fields)


def fields(template: str) -> set[str]:
    """The names of a template's format fields."""
    return {
        name.split(".")[0].split("[")[0]
        for _, name, _, _ in string.Formatter().parse(template)
        if name is not None
    }


def _pattern(template: str) -> re.Pattern:
    parts = []
    for text, name, _, _ in string.Formatter().parse(template):
        parts.append(re.escape(text))
        if name is not None:
            parts.append(".*?")
    return re.compile("".join(parts) + "$", re.DOTALL)


def matches(msg_id: str, text: str) -> bool:
    """Whether ``text`` is message ``msg_id`` in any language (its fields anything)."""
    return any(_pattern(c[msg_id]).match(text) for c in CATALOGS.values())
