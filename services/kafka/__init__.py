"""Kafka adapters: the local broker, topics, the producer."""
