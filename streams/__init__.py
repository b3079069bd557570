"""The Faust application of basinwatch: records, topics, agents, settings and the `basin` CLI."""
