"""JAX: the oracle (oracle.py) and its optional slots (crosscheck/frameworks/__init__.py)."""
