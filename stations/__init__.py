"""What a station is and what it says: registry, parameters, the GB 3838-2002 standard,
quality-control checks and breach rules.

Pure domain logic: nothing in this package imports Kafka, Faust or InfluxDB.

Rooms::

    (top)          parameters, jurisdictions, station, registry (data/stations.yaml), schema
                   (the building blocks of the config files' pydantic models), yamlsource (a
                   YAML file validated against its model, every problem with its line),
                   errors (below)
    sharing/       grants (which data each party sees, at what granularity and delay),
                   config (data/sharing.yaml: the data-sharing list, one per year)
    formats/       records (the msgspec base of the topics' records), report (schema 1, the
                   station report), assessed (the assessed report), hj212 (HJ 212-2017 codec),
                   cnemc (published results), history (published results as station reports)
    quality/       checks (QARTOD-style, numpy), newest (their newest-value twins),
                   limits (data/qc.yaml), screening (QC of one new value)
    standard/      gb3838 (GB 3838-2002 classes, vectorised and per report, basin status)
    rules/         engine (breach and recovery rules over recent history), events (the rule
                   event record), config (data/rules.yaml)
    assessment     the check path of one raw message, tying the rooms together
    simulation/    model (seeded reports with faults, ``basin simulate``), values, faults,
                   profile (levels and cycles from the real published data)

Exceptions (``stations.errors``)::

    StationsError                 root of the package
    ├── ConfigError               a YAML file is wrong; .problems: every (path, line, message)
    │   ├── RegistryError         stations.yaml
    │   ├── QCConfigError         qc.yaml
    │   ├── RuleConfigError       rules.yaml
    │   └── SharingError          sharing.yaml (the data-sharing list)
    ├── UnknownStationError       a station id, name or MN not in the registry
    ├── UnitError                 an unknown unit for a parameter, or an unknown parameter
    ├── ClassificationError       a value or water body GB 3838 cannot class
    ├── CnemcFormatError          a malformed CNEMC export (file and line in the message)
    ├── Hj212Error                a packet that breaks HJ 212-2017 (stations.formats.hj212)
    ├── MessageError              a message that does not decode into its record (not JSON, or
    │                             a field that breaks it; the field is named); .undecodable
    ├── ReportError               a raw report refused by the check path; .reason, the dead
    │                             letter's code (stations.formats.report)
    ├── Replay                    not an error: a redelivered message already processed
    │                             (stations.assessment)
    └── SimulationError           a bad fault spec or nothing to simulate

Records (``stations.formats.records``): the messages on the topics are frozen msgspec Structs,
decoded once where they are read: ``formats.report.Report`` (wq.reports.raw),
``formats.assessed.AssessedReport`` (wq.reports.assessed), ``rules.events.RuleEvent``
(wq.breaches, and inside the assessed report).
"""

from pathlib import Path

#: The package's shipped data files: registry, QC limits, rules, simulation profile.
DATA_DIR = Path(__file__).parent / "data"
