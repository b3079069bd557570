"""Faust agents: thin shells that read a topic, call the domain code and write the outcome."""
