"""`basin gateway`: the TCP edge where HJ 212 data loggers connect (see docs/operations.md)."""
