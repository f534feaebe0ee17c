"""`python -m mageguard`: the same command line as the `mageguard` script."""

from mageguard.cli import main

main()
