"""`basin boards`: the Grafana dashboards as code (boards/): build them for file provisioning.

``push`` and ``snapshot`` are registered on this group by their own modules.
"""

from __future__ import annotations

import click


@click.group()
def boards() -> None:
    """The Grafana boards (看板): build the dashboards and Grafana's provisioning files."""
