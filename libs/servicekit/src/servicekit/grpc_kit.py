"""grpc.aio server bootstrap: health, reflection, identity and error mapping.

Errors map to status codes one way everywhere (ARCHITECTURE.md):
InvalidArgument → INVALID_ARGUMENT with a google.rpc.BadRequest listing every bad field;
RuleViolated → FAILED_PRECONDITION; NotFound; AlreadyExists; Conflict → ABORTED;
PermissionDenied; Unauthenticated. Each carries a google.rpc.LocalizedMessage in zh-CN.
Anything else is INTERNAL with a reference to the log line, never UNKNOWN.

Identity: with mTLS, the client certificate's URI SAN `urn:pubrev:identity:agency=…;role=…;
unit=…` names the caller. The plain `x-pubrev-identity` header is read only when
PUBREV_DEV_IDENTITY_HEADER is on, which the settings refuse in production.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from servicekit.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RuleViolated,
    ServiceError,
    Unauthenticated,
)
from servicekit.identity import Identity, bind_identity, reset_identity
from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)

IDENTITY_HEADER = "x-pubrev-identity"
IDENTITY_SAN_PREFIX = "urn:pubrev:identity:"
ERROR_DOMAIN = "pubrev.gov.putian"

_STATUS: list[tuple[type[ServiceError], grpc.StatusCode]] = [
    (InvalidArgument, grpc.StatusCode.INVALID_ARGUMENT),
    (RuleViolated, grpc.StatusCode.FAILED_PRECONDITION),
    (NotFound, grpc.StatusCode.NOT_FOUND),
    (AlreadyExists, grpc.StatusCode.ALREADY_EXISTS),
    (Conflict, grpc.StatusCode.ABORTED),
    (PermissionDenied, grpc.StatusCode.PERMISSION_DENIED),
    (Unauthenticated, grpc.StatusCode.UNAUTHENTICATED),
]


def status_code_for(error: ServiceError) -> grpc.StatusCode:
    for kind, code in _STATUS:
        if isinstance(error, kind):
            return code
    return grpc.StatusCode.INTERNAL


def rich_status(code: grpc.StatusCode, message: str, message_zh: str,
                details: Sequence[Any] = ()) -> status_pb2.Status:
    packed = []
    for detail in (*details, error_details_pb2.LocalizedMessage(locale="zh-CN",
                                                                message=message_zh)):
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    return status_pb2.Status(code=code.value[0], message=message, details=packed)


def status_for(error: ServiceError) -> tuple[grpc.StatusCode, status_pb2.Status]:
    code = status_code_for(error)
    details: list[Any] = []
    if isinstance(error, InvalidArgument):
        details.append(
            error_details_pb2.BadRequest(
                field_violations=[
                    error_details_pb2.BadRequest.FieldViolation(
                        field=v.field,
                        description=v.description,
                        reason=v.rule,
                        localized_message=error_details_pb2.LocalizedMessage(
                            locale="zh-CN", message=v.description_zh or v.description
                        ),
                    )
                    for v in error.violations
                ]
            )
        )
    details.append(
        error_details_pb2.ErrorInfo(reason=type(error).__name__.upper(), domain=ERROR_DOMAIN)
    )
    return code, rich_status(code, error.message, error.message_zh, details)


def _trailing(status: status_pb2.Status) -> tuple[tuple[str, bytes], ...]:
    return (("grpc-status-details-bin", status.SerializeToString()),)


class IdentityResolver:
    def __init__(self, settings: ServiceSettings) -> None:
        self.mtls = settings.mtls
        self.dev_header = settings.dev_identity_header

    def resolve(self, context: grpc.aio.ServicerContext[Any, Any]) -> Identity | None:
        if self.mtls:
            auth = context.auth_context()
            for san in auth.get("x509_subject_alternative_name", []):
                text = san.decode() if isinstance(san, bytes) else str(san)
                if text.startswith(IDENTITY_SAN_PREFIX):
                    return Identity.parse(text[len(IDENTITY_SAN_PREFIX):])
            if not self.dev_header:
                return None
        if self.dev_header:
            for key, value in context.invocation_metadata() or ():
                if key == IDENTITY_HEADER:
                    text = value.decode() if isinstance(value, bytes) else value
                    return Identity.parse(text)
        return None


if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]  # generic in the stubs only
else:
    Handler = grpc.RpcMethodHandler


class ServiceKitInterceptor(grpc.aio.ServerInterceptor):
    """Binds the caller's identity and maps errors to status codes, for every unary RPC."""

    def __init__(self, resolver: IdentityResolver) -> None:
        self.resolver = resolver
        # The wrapped handler of each method, made once (not on every call).
        self._wrapped: dict[str, tuple[Handler, Handler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None:
            return handler
        method = handler_call_details.method
        cached = self._wrapped.get(method)
        if cached is not None and cached[0] is handler:
            return cached[1]
        wrapped_handler = self._wrap(method, handler)
        self._wrapped[method] = (handler, wrapped_handler)
        return wrapped_handler

    def _wrap(self, method: str, handler: Handler) -> Handler:
        inner: Any = handler.unary_unary  # an async behaviour on a grpc.aio server
        resolver = self.resolver

        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            try:
                token = bind_identity(resolver.resolve(context))
            except Unauthenticated as error:
                code, status = status_for(error)
                await context.abort(code, error.message, trailing_metadata=_trailing(status))
            try:
                return await inner(request, context)
            except ServiceError as error:
                code, status = status_for(error)
                log.info(
                    "rpc refused",
                    extra={"rpc": method, "code": code.name, "error": error.message},
                )
                await context.abort(code, error.message, trailing_metadata=_trailing(status))
            except grpc.aio.AbortError:
                raise
            except Exception:
                incident = uuid.uuid4().hex[:12]
                log.exception("rpc failed", extra={"rpc": method, "incident": incident})
                status = rich_status(
                    grpc.StatusCode.INTERNAL,
                    f"internal error, incident {incident}",
                    f"系统内部错误，事件编号 {incident}",
                )
                await context.abort(
                    grpc.StatusCode.INTERNAL,
                    status.message,
                    trailing_metadata=_trailing(status),
                )
            finally:
                reset_identity(token)

        behaviour: Any = wrapped  # grpc's stubs type behaviours with the sync context
        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class GrpcServer:
    """One grpc.aio server for a service, with health and reflection."""

    def __init__(self, settings: ServiceSettings, service_names: Sequence[str]) -> None:
        self.settings = settings
        self.service_names = list(service_names)
        self.server = grpc.aio.server(
            interceptors=[ServiceKitInterceptor(IdentityResolver(settings))],
            # Off unless several api processes share the port on purpose: otherwise a
            # second server started by mistake would silently split the traffic.
            options=[("grpc.so_reuseport", 1 if settings.grpc_reuseport else 0)],
        )
        self.health = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        reflection.enable_server_reflection(
            [*self.service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], self.server
        )
        self.port = 0

    async def start(self) -> int:
        address = self.settings.grpc_address
        if self.settings.mtls:
            assert self.settings.tls_cert and self.settings.tls_key and self.settings.tls_client_ca
            credentials = grpc.ssl_server_credentials(
                [(self.settings.tls_key.read_bytes(), self.settings.tls_cert.read_bytes())],
                root_certificates=self.settings.tls_client_ca.read_bytes(),
                require_client_auth=True,
            )
            self.port = self.server.add_secure_port(address, credentials)
        else:
            self.port = self.server.add_insecure_port(address)
        if self.port == 0:
            raise OSError(f"cannot listen on {address} (port in use?)")
        await self.server.start()
        for name in ("", *self.service_names):
            await self.health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info(
            "grpc server listening",
            extra={"address": f"{self.settings.grpc_host}:{self.port}",
                   "mtls": self.settings.mtls, "services": self.service_names},
        )
        return self.port

    async def stop(self, grace: float) -> None:
        """Stops taking calls (health says NOT_SERVING first), lets in-flight calls finish."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        log.info("grpc server stopped")


__all__ = ["GrpcServer", "code_pb2", "status_for"]
