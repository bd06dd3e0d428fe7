"""`python -m genesys.check PATH [--json] [overrides]` -- the symbolic checker's command line (DESIGN §5)."""
import sys

from genesys.checker.cli import main

if __name__ == "__main__":
    sys.exit(main())
