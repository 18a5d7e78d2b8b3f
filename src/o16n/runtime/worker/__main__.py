"""`python -m o16n.runtime.worker <fd>`: serve requests on the socket `fd`."""

import os
import sys

from o16n.runtime.worker.main import main

os._exit(main(sys.argv))  # without waiting for threads user code may have left running
