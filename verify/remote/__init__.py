"""The learner's code in a process of its own, reached only through data (--isolate, and every graded submission)."""
