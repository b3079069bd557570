"""Grafana dashboards as code: one module per board, built with the Grafana foundation SDK.

Rooms:
- ``grafana_vars``: Grafana's variable and macro substitution (the tests and snapshots use it);
- ``flux``: a small Flux query builder (the SDK has none), checked against the store's schema;
- ``panels``: the panel defaults every board shares;
- one module per board: ``overview``, ``jurisdiction``, ``station``, ``quality``,
  ``cross_boundary``, ``alerts``;
- ``bundle``: folders, teams, datasources and dashboards, shared by ``build`` and ``push``.
"""
