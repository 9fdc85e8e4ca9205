"""The case workflow: states, transitions, routing and clocks."""
