"""Grading a class: many learner submissions, each verified in its own child process, kept in one SQLite gradebook
(written by the grading process only) and exported as a CSV, one feedback file per submission and a summary."""
