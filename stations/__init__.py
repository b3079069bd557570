"""What a station is and what it says: registry, parameters, the GB 3838-2002 standard,
quality-control checks and breach rules.

Pure domain logic: nothing in this package imports Kafka, Faust or InfluxDB.

Modules::

    parameters     canonical parameter keys, names, units and conversions, HJ 212 codes
    jurisdictions  JS, ZJ, SH, AH and the Taihu Basin Authority (TBA); who a station concerns
    station        what one station is (frozen dataclasses)
    registry       the station registry (data/stations.yaml): loading, validation, lookups
    gb3838         GB 3838-2002 classes: vectorised, per report, and basin status grading
    qc             QARTOD-style checks over numpy arrays and their combination
    qc_limits      QC limits per parameter, jurisdiction and station (data/qc.yaml)
    screening      QC of one new value: HJ 212 instrument flags, then the checks
    rules          breach and recovery rules over a station's recent history
    rules_config   the rules as data (data/rules.yaml)
    cnemc          CSV exports of the national publishing system, re-classed
    hj212          HJ 212-2017 packets: framing, CRC, parse and build
    simulation     seeded station reports with injected faults (``basin simulate``)
    simulation_values    the simulated value of each parameter over time
    simulation_faults    fault rates, the outcome each fault must get, faulty bytes
    simulation_profile   levels and cycles from the real published data (data/*.json)
    yamlsource     YAML with line numbers, collecting every problem
    errors         the exceptions below

Exceptions (``stations.errors``)::

    StationsError                 root of the package
    ├── ConfigError               a YAML file is wrong; .problems: every (path, line, message)
    │   ├── RegistryError         stations.yaml
    │   ├── QCConfigError         qc.yaml
    │   └── RuleConfigError       rules.yaml
    ├── UnknownStationError       a station id, name or MN not in the registry
    ├── UnitError                 an unknown unit for a parameter, or an unknown parameter
    ├── ClassificationError       a value or water body GB 3838 cannot class
    ├── CnemcFormatError          a malformed CNEMC export (file and line in the message)
    ├── Hj212Error                a packet that breaks HJ 212-2017 (stations.hj212)
    └── SimulationError           a bad fault spec or nothing to simulate
"""
