"""API: assets."""
