"""The staff register: the people a case can be about."""
