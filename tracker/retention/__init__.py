"""Retention of case records: how long a closed case is kept, and what happens then."""
