"""Models of this app arrive in a later part (see the issues)."""
