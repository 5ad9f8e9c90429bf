"""An app that exists only in the tests: it adds an indicator and a dashboard panel from the
outside, the way collective_economy will, with no change inside governance."""
