"""Content-addressed blob storage for snapshots and output files."""
