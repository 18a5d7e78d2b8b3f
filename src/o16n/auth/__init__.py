"""Passwords, tokens, roles and the authorization decision."""
