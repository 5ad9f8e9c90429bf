"""Forms of the assets pages."""
