"""An app that exists only in the tests: it adds an indicator (a headline card, a league column
and a trend line with a target) and a dashboard panel from the outside, the way
collective_economy will, with no change inside governance."""
