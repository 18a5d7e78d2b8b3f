"""Tests of o16n.client against a real server."""
