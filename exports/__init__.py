"""Monthly reports for the jurisdictions' joint meeting."""
