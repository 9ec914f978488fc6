"""The implementation under test: loading it (loading.py) and seeing it through the course's API (adapters.py)."""

from .adapters import CourseImplementation
from .loading import NOTES, load_module

__all__ = ["NOTES", "CourseImplementation", "load_module"]
