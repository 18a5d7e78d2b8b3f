"""Rules and use cases: no HTTP, no SQL, no processes."""
