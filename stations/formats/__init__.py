"""Wire and file formats: the station report (schema 1), the HJ 212 codec, CNEMC published
results, history import. Pure."""
