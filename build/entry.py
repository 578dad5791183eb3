"""Entry point of the frozen build: the same `workstation` command as the installed one."""

import sys

from workstation.cli import main

if __name__ == "__main__":
    sys.exit(main())
