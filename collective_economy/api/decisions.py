"""API: decisions."""
