"""The national standard and method. Pure.

- :mod:`stations.standard.gb3838`: GB 3838-2002 classes of a value and of a report, the status
  of a basin from its sections' classes;
- :mod:`stations.standard.period`: the assessment of a period by 《地表水环境质量评价办法（试行）》
  (a section's class, main pollutants, target and completeness; a jurisdiction or the basin;
  changes between periods);
- :mod:`stations.standard.trophic`: the lake's comprehensive trophic level index TLI(Σ).

docs/assessment.md gives the rules with their sources.
"""
