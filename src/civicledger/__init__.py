"""CivicLedger: a consortium ledger for city services with one incentive economy."""

__version__ = "0.1.0"
