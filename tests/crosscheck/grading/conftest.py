"""The corpus is students' code, run only by tests/crosscheck/grading/test_corpus.py
through the grader's sandbox. pytest must never import it itself (--doctest-modules
would run its top-level code: a sys.exit, a snoop, helper imports that only resolve
from the student's own folder)."""

collect_ignore = ["corpus"]
