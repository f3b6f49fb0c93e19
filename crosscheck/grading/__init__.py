"""Grading a class: ``crosscheck grade`` runs each student's backprop in its own sandboxed
child, on practice and hidden cases, and scores it per quantity with the diagnosis that
explains each lost point."""
