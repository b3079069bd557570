from __future__ import annotations

from streams.settings import Settings
from streams.topics import project_topics


def test_project_topics_follow_the_settings() -> None:
    settings = Settings(topic_partitions=12, topic_replication_factor=3, topic_retention_hours=48)
    specs = project_topics(settings)
    assert [s.name for s in specs] == list(settings.topics)
    assert {(s.partitions, s.replication_factor) for s in specs} == {(12, 3)}
    assert all(dict(s.config)["retention.ms"] == str(48 * 3600 * 1000) for s in specs)
