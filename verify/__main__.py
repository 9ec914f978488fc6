import sys

from ._startup import install_early, pause_collection, thread_pools_wait_briefly

install_early()  # already done by verify/__init__.py under `python -m verify`; here for `-m verify.__main__`
pause_collection()  # the same

thread_pools_wait_briefly()  # before NumPy and torch load (see verify/_startup.py)

from .cli import main  # noqa: E402

sys.exit(main())
