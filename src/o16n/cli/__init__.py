"""The `o16n` command line."""
