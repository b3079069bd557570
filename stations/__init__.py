"""What a station is and what it says: registry, parameters, the GB 3838-2002 standard,
quality-control checks and breach rules.

Pure domain logic: nothing in this package imports Kafka, Faust or InfluxDB.
"""
