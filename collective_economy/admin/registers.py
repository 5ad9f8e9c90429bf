"""Admin: registers."""
