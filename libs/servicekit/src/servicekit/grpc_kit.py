"""grpc.aio server bootstrap: health, reflection, identity and error mapping.

Errors map to status codes one way everywhere (ARCHITECTURE.md):
InvalidArgument → INVALID_ARGUMENT with a google.rpc.BadRequest listing every bad field;
RuleViolated → FAILED_PRECONDITION; NotFound; AlreadyExists; Conflict → ABORTED;
PermissionDenied; Unauthenticated. Each carries a google.rpc.LocalizedMessage in zh-CN.
Anything else is INTERNAL with a reference to the log line, never UNKNOWN.

Bounds: every request is checked against the bounds its .proto declares (servicekit.bounds,
compiled once when the server is made) before the handler runs. Error trailers stay small
whatever was sent: at most MAX_REPORTED violations are listed, and every text is cut to a
short length (a client's default limit on metadata is 8 KiB; past it the caller would see
RESOURCE_EXHAUSTED instead of the error).

Identity: with mTLS, the client certificate's URI SAN `urn:pubrev:identity:agency=…;role=…;
unit=…` names the caller (and the development header is refused). The plain
`x-pubrev-identity` header is read only without mTLS and when PUBREV_DEV_IDENTITY_HEADER is
on, which the settings refuse in production. A front end adds `x-pubrev-assertion`, a signed
assertion of the person it acts for (servicekit.assertion).
"""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from servicekit.assertion import ASSERTION_HEADER, load_public_keys, verify
from servicekit.attachments import AttachmentLimits, MiB
from servicekit.bounds import MessageBounds, RequestBounds
from servicekit.errors import (
    AlreadyExists,
    Conflict,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    RuleViolated,
    ServiceError,
    Unauthenticated,
    as_service_error,
)
from servicekit.identity import Identity, IdentityRules, bind_identity, reset_identity
from servicekit.isolation import is_transient
from servicekit.settings import ServiceSettings

log = logging.getLogger(__name__)

IDENTITY_HEADER = "x-pubrev-identity"
IDENTITY_SAN_PREFIX = "urn:pubrev:identity:"
ERROR_DOMAIN = "pubrev.gov.putian"
MAX_REPORTED = 20
"""Field violations listed in one error; the rest are counted in a last entry."""
MAX_MESSAGE = 600
"""Characters of an error's message (English or zh-CN) in the trailers."""
MAX_DETAIL = 200
"""Characters of one violation's field path or description."""
MAX_RECEIVE_MESSAGE_BYTES = AttachmentLimits().max_bytes + MiB
"""The largest request a server receives: an evidence upload (pubrev.common.v1.
EvidenceService, servicekit.evidence) carries a file of up to 20 MiB and a few short fields.
gRPC's default is 4 MiB, and a grpc.aio server takes one limit for all its methods, so it is
raised for every RPC: a request of another RPC between 4 and 21 MiB, which the transport
refused before (RESOURCE_EXHAUSTED), is now read and parsed, then refused by the bounds its
.proto declares (INVALID_ARGUMENT) when a field is over them. A call in flight may hold up to
21 MiB of request (times the calls in flight: the pod's memory limit and the front proxy's
request limits stay the guard against a flood)."""

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


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def rich_status(
    code: grpc.StatusCode, message: str, message_zh: str, details: Sequence[Any] = ()
) -> status_pb2.Status:
    packed = []
    for detail in (
        *details,
        error_details_pb2.LocalizedMessage(locale="zh-CN", message=_cut(message_zh, MAX_MESSAGE)),
    ):
        holder = any_pb2.Any()
        holder.Pack(detail)
        packed.append(holder)
    return status_pb2.Status(code=code.value[0], message=_cut(message, MAX_MESSAGE), details=packed)


def _field_violation(
    field: str, rule: str, description: str, description_zh: str
) -> error_details_pb2.BadRequest.FieldViolation:
    return error_details_pb2.BadRequest.FieldViolation(
        field=_cut(field, MAX_DETAIL),
        description=_cut(description, MAX_DETAIL),
        reason=_cut(rule, 64),
        localized_message=error_details_pb2.LocalizedMessage(
            locale="zh-CN", message=_cut(description_zh or description, MAX_DETAIL)
        ),
    )


def status_for(error: ServiceError) -> tuple[grpc.StatusCode, status_pb2.Status]:
    code = status_code_for(error)
    details: list[Any] = []
    if isinstance(error, InvalidArgument):
        listed = [
            _field_violation(v.field, v.rule, v.description, v.description_zh)
            for v in error.violations[:MAX_REPORTED]
        ]
        more = len(error.violations) - MAX_REPORTED
        if more > 0:
            listed.append(
                _field_violation(
                    "",
                    "more_violations",
                    f"{more} more violations not listed",
                    f"另有{more}处错误未列出",
                )
            )
        details.append(error_details_pb2.BadRequest(field_violations=listed))
    details.append(
        error_details_pb2.ErrorInfo(reason=type(error).__name__.upper(), domain=ERROR_DOMAIN)
    )
    return code, rich_status(code, error.message, error.message_zh, details)


def _trailing(status: status_pb2.Status) -> tuple[tuple[str, bytes], ...]:
    return (("grpc-status-details-bin", status.SerializeToString()),)


class IdentityResolver:
    """The caller's identity from the call: with mTLS only the client certificate's URI SAN
    (the development header is then refused outright); without it, the development header
    when enabled. A front end's certificate (or header) is replaced by the person its
    signed assertion names; without an assertion the front end stands for itself, which no
    policy authorizes."""

    def __init__(
        self,
        settings: ServiceSettings,
        rules: IdentityRules,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.mtls = settings.mtls
        self.dev_header = settings.dev_identity_header
        self.rules = rules
        self.frontend_keys = load_public_keys(settings.frontend_keys)
        self.clock = clock

    def resolve(self, context: grpc.aio.ServicerContext[Any, Any]) -> Identity | None:
        metadata = _metadata(context)
        if self.mtls:
            if IDENTITY_HEADER in metadata:
                raise Unauthenticated(
                    "the development identity header is refused with mTLS",
                    "已启用双向TLS，不接受开发用身份请求头",
                )
            sans = [text for text in _sans(context) if text.startswith(IDENTITY_SAN_PREFIX)]
            if not sans:
                return None
            if len(sans) > 1:
                raise Unauthenticated(
                    "the certificate names more than one pubrev identity", "证书包含多个身份"
                )
            identity = self.rules.parse(sans[0][len(IDENTITY_SAN_PREFIX) :])
        elif self.dev_header and IDENTITY_HEADER in metadata:
            identity = self.rules.parse(metadata[IDENTITY_HEADER])
        else:
            return None
        token = metadata.get(ASSERTION_HEADER)
        if token is None:
            return identity
        if not self.rules.is_frontend(identity):
            raise Unauthenticated(
                "only a front end may assert a person", "仅前端系统可提交委托身份断言"
            )
        asserted = verify(token, identity.subject, self.frontend_keys, int(self.clock()))
        person = self.rules.parse(asserted.identity_text)
        if not self.rules.may_assert(identity, person):
            raise Unauthenticated(
                f"{identity.agency} may not act for {person.agency}", "该前端系统无权代表此类用户"
            )
        return replace(person, via=identity.subject)


def _metadata(context: grpc.aio.ServicerContext[Any, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for key, value in context.invocation_metadata() or ():
        if key in (IDENTITY_HEADER, ASSERTION_HEADER):
            if key in values:
                raise Unauthenticated(f"{key} sent twice", "身份请求头重复")
            values[key] = value.decode() if isinstance(value, bytes) else value
    return values


def _sans(context: grpc.aio.ServicerContext[Any, Any]) -> list[str]:
    """The client certificate's URI SANs only ("peer_uri"): the identity is a URI SAN, and
    the same text in a DNS or e-mail name is not one ("x509_subject_alternative_name" would
    mix them all)."""
    auth = context.auth_context()
    return [
        san.decode() if isinstance(san, bytes) else str(san) for san in auth.get("peer_uri", [])
    ]


if TYPE_CHECKING:
    Handler = grpc.RpcMethodHandler[Any, Any]  # generic in the stubs only
else:
    Handler = grpc.RpcMethodHandler


class ServiceKitInterceptor(grpc.aio.ServerInterceptor):
    """Binds the caller's identity, checks the request against its declared bounds, and maps
    errors to status codes, for every unary RPC."""

    def __init__(self, resolver: IdentityResolver, bounds: RequestBounds | None = None) -> None:
        self.resolver = resolver
        self.bounds = bounds or RequestBounds({})
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
        bounds: MessageBounds | None = self.bounds.for_method(method)
        check = bounds.check if bounds is not None else None

        async def wrapped(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
            # Resolving is inside the one try: a refused identity maps like any service error,
            # a bug while resolving is INTERNAL with an incident (not UNKNOWN echoing it), and
            # the identity is reset only if it was bound.
            token: contextvars.Token[Identity | None] | None = None
            try:
                token = bind_identity(resolver.resolve(context))
                if check is not None:
                    check(request)  # InvalidArgument before the handler sees anything
                return await inner(request, context)
            except grpc.aio.AbortError:
                raise
            except Exception as error:
                refused = as_service_error(error)
                if refused is not None:
                    code, status = status_for(refused)
                    log.info(
                        "rpc refused",
                        extra={"rpc": method, "code": code.name, "error": status.message},
                    )
                    await context.abort(code, status.message, trailing_metadata=_trailing(status))
                if is_transient(error):
                    # The database or the broker is away (a restart, a failover): nothing was
                    # committed, and a retry with the same request_id is answered once.
                    log.warning(
                        "rpc failed on an outage; the caller may retry",
                        extra={"rpc": method, "error": repr(error)[:300]},
                    )
                    status = rich_status(
                        grpc.StatusCode.UNAVAILABLE,
                        "the service's database or event bus is unavailable for a moment: "
                        "retry with the same request_id",
                        "服务的数据库或消息服务暂时不可用，请使用相同的请求编号重试",
                        [error_details_pb2.RetryInfo(retry_delay={"seconds": 1})],
                    )
                    await context.abort(
                        grpc.StatusCode.UNAVAILABLE,
                        status.message,
                        trailing_metadata=_trailing(status),
                    )
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
                if token is not None:
                    reset_identity(token)

        behaviour: Any = wrapped  # grpc's stubs type behaviours with the sync context
        return grpc.unary_unary_rpc_method_handler(
            behaviour,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )


class GrpcServer:
    """One grpc.aio server for a service, with health and reflection."""

    def __init__(
        self, settings: ServiceSettings, service_names: Sequence[str], identity_rules: IdentityRules
    ) -> None:
        self.settings = settings
        self.service_names = list(service_names)
        # The bounds the services' .proto files declare, compiled now, once: from the
        # descriptors the service's generated stubs registered (servicekit imports none).
        self.bounds = RequestBounds.for_services(self.service_names)
        self.server = grpc.aio.server(
            interceptors=[
                ServiceKitInterceptor(IdentityResolver(settings, identity_rules), self.bounds)
            ],
            options=[
                # Off unless several api processes share the port on purpose: otherwise a
                # second server started by mistake would silently split the traffic.
                ("grpc.so_reuseport", 1 if settings.grpc_reuseport else 0),
                ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
            ],
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
            extra={
                "address": f"{self.settings.grpc_host}:{self.port}",
                "mtls": self.settings.mtls,
                "services": self.service_names,
            },
        )
        return self.port

    async def stop(self, grace: float) -> None:
        """Stops taking calls (health says NOT_SERVING first), lets in-flight calls finish."""
        await self.health.enter_graceful_shutdown()
        await self.server.stop(grace)
        log.info("grpc server stopped")


__all__ = ["GrpcServer", "code_pb2", "status_for"]
