"""servicekit: the technical kit every pubrev service stands on.

Settings, logging, the gRPC bootstrap, the outbox relay and the consumer runner. Nothing
here knows a business noun: a community, a disclosure or a case belongs in a service.
"""
