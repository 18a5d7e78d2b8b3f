"""Route modules: each declares the operations of one noun."""
