"""Forms of the decisions pages."""
