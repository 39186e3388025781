import sys

from torchmode.lsp.server import main

raise SystemExit(main(sys.argv[1:]))
