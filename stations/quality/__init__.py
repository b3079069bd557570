"""Quality control: QARTOD checks, their newest-value twins, limits, screening of one value.

Pure."""
