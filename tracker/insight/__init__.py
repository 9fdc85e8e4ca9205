"""Insight across cases: earlier concerns about the same person, the pattern rule and its
review, and links between cases."""
