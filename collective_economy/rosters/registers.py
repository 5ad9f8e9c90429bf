"""Rosters: contracts, receivables and debts, assets and resources."""
