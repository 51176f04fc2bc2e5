#!/usr/bin/env python3
"""Build the algorithm transparency portal: ``python build.py --help``."""

from sitegen.cli import run

if __name__ == "__main__":
    run()
