"""The SQL metadata store (SQLite by default, PostgreSQL for scale-out)."""
