"""Entry points: gRPC API, Kafka consumers, process main."""
