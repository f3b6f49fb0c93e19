"""refnet test suite (a package, so tests/conftest.py and docs/conftest.py get distinct names)."""
