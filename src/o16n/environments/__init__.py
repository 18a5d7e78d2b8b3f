"""Python environments of their own for service versions and sessions, built with uv."""
