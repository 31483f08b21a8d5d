"""The disclosure service's own test helpers: a scenario of every event (the golden samples'
source) and valid gRPC requests to start tests from."""
