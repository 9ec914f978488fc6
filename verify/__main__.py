import os
import sys

from ._startup import install_early, pause_collection

install_early()  # already done by verify/__init__.py under `python -m verify`; here for `-m verify.__main__`
pause_collection()  # the same

# NumPy's BLAS threads and torch's OpenMP threads take turns at every training step. Left to
# spin-wait after their work (the default), each pool holds the cores the other one needs next:
# on a 2-core machine a large run took twice as long. Set before either library loads; a
# user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")  # 2^4 cycles before an idle thread sleeps

from .cli import main  # noqa: E402

sys.exit(main())
