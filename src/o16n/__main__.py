"""`python -m o16n` runs the command line."""

from o16n.cli.main import main

main()
