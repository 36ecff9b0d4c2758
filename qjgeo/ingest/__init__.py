"""Bring real data in: read a ledger, map its columns, locate, validate, commit."""
