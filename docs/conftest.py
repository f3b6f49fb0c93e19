"""Collection rules for the docs' doctests.

Every ``*.md`` file in docs/ is a doctest (pyproject: ``--doctest-glob='*.md'``).
Examples that need TensorFlow live in companion files named ``*.tensorflow.md``, those that need
TensorFlow and PyTorch in ``*.torch.md``, those that need JAX in ``*.jax.md``; a file whose optional dependencies (TensorFlow,
PyTorch, or scikit-learn for the digits data) are not installed is not collected, so the
other chapters still run. The ``*.py`` files beside the chapters
are scripts (figures, notebook generation), not test modules.

A Chinese page ``NAME.zh.md`` runs the same examples as ``NAME.md`` and needs what it needs.
With ``REFNET_DOCS_ZH=0`` the Chinese pages are not collected (the range legs of
``.ci/run`` set it: their examples equal the English pages', tests/test_translations.py
checks, and the main leg runs them).
"""

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

# Optional packages a docs file needs beyond refnet's own (numpy).
NEEDS = {
    "07-checking.jax.md": ["tensorflow", "torch"],  # its majority of three
    "08-training.md": ["sklearn"],
    "08-training.tensorflow.md": ["sklearn"],
    "11-making-it-train.md": ["sklearn"],
}


def _missing(name: str) -> list[str]:
    name = name.removesuffix(".zh.md") + ".md" if name.endswith(".zh.md") else name
    needs = list(NEEDS.get(name, []))
    if name.endswith(".tensorflow.md"):
        needs.append("tensorflow")
    if name.endswith(".torch.md"):
        needs += ["tensorflow", "torch"]
    if name.endswith(".jax.md"):
        needs.append("jax")
    return [pkg for pkg in needs if importlib.util.find_spec(pkg) is None]


def pytest_ignore_collect(collection_path: Path, config):
    name = collection_path.name
    # scripts that draw figures, etc.
    if name.endswith(".py") and name != "conftest.py":
        return True
    if name.endswith(".md") and _missing(name):
        return True
    if name.endswith(".zh.md") and os.environ.get("REFNET_DOCS_ZH", "1") == "0":
        return True
    return None


@pytest.fixture(autouse=True)
def _restore_numpy_printoptions():
    """Chapters call np.set_printoptions; restore NumPy's options after each file."""
    saved = np.get_printoptions()
    yield
    np.set_printoptions(**saved)
