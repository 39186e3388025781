import os
import sys

# `python -m` puts the working directory first on sys.path: a project's own libcst.py or
# torch.py would then be imported (and run) instead of the real one. torchmode never runs
# the code it reads, so the directory goes before anything else is imported.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from torchmode.cli.main import main

raise SystemExit(main())
