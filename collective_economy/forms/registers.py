"""Forms of the registers pages."""
