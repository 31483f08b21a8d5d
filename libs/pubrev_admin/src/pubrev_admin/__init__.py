"""`pubrev-admin`: the operators' command line (运维命令行).

It talks to the services' `pubrev.common.v1.AdminService` over gRPC, under an operator
identity, and never to their databases or to Kafka (ARCHITECTURE.md "Trust": every action
goes through the service's declared policy and is recorded in its audit trail). The
import-linter contract `admin-cli-grpc-only` keeps it that way.
"""
