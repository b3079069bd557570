"""Wire and file formats: the typed records of the topics (the station report, schema 1, and the
assessed report, on the base in ``records``), the HJ 212 codec, CNEMC published results, history
import. Pure."""
