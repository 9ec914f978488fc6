"""Learner-style modules that tests/verify/test_impl.py verifies with --impl (fixtures, not tests)."""
