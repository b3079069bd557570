"""The national standard: GB 3838-2002 classes. Pure."""
