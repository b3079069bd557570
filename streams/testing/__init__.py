"""Helpers to drive a running basinwatch from the outside, shared by the tests and the benchmarks.

Like ``flask.testing``, they live in the package rather than in ``tests/`` so that ``bench/``
(and a later tool) can use them without importing the test suite; ``tests/`` imports them from
here too, so there is one copy. They need the development extras (aiosmtpd) and, for
:mod:`streams.testing.pipeline`, the data of a checkout (``tests/data``).

* :mod:`streams.testing.receivers`: real local HTTP and SMTP receivers that record what arrived;
* :mod:`streams.testing.alerting`: an alerts YAML pointing at them, reports near now, clock ticks;
* :mod:`streams.testing.pipeline`: published reports, the outcome the pure check path expects,
  and topic readers that read as a downstream consumer does.
"""
