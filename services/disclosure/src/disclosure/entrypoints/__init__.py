"""Entry points: the gRPC API, the relay and the process main."""
