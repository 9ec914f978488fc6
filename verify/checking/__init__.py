"""Checking: each check of the implementation against torch, at one point, function by function, over training and in the course's own loops."""
