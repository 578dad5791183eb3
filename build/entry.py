"""Entry point of the frozen build: the same `workstation` command as the installed one."""

import multiprocessing
import sys

from workstation.cli import main

if __name__ == "__main__":
    # The keying view decodes pages in a process of its own (ui/prefetch.py); in the frozen
    # build that process starts this executable again, and this call makes it a decoder.
    multiprocessing.freeze_support()
    sys.exit(main())
