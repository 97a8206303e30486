"""The fault tests start and kill real processes: only `make test-faults` runs them."""

import os

if not os.environ.get("BIHUAN_FAULT_TESTS"):
    collect_ignore_glob = ["test_*.py"]
