"""Tenancy: the trust and its schools."""
