"""API: registers."""
