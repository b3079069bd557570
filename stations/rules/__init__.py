"""Breach rules and their configuration. Pure."""
