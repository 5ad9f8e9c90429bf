"""Admin: assets."""
