"""The HTTP layer: ML Server's wire format and nothing else."""
