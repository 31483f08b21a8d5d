"""Render the Kubernetes overlays and check them, offline.

    python tools/check_k8s.py

For each overlay in deploy/k8s/overlays (dev, prod):
1. `kustomize build` it;
2. validate every document against the Kubernetes 1.31 OpenAPI schemas bundled with
   kubernetes-validate, strictly (an unknown field, kind or apiVersion fails);
3. check the invariants the platform relies on (see `check_deployment`, and
   `check_scanner_deployment` for clamd, the virus scanner of evidence files).
Each failure prints as `overlay/kind/name: problem` and the exit status is 1; on success one
summary line. Exit status 2: the checks could not run (no kustomize v5, none installable).

kustomize: $KUSTOMIZE, else .local/bin/kustomize, else one on PATH; failing those it is
installed into .local/bin with `go install` (KUSTOMIZE_VERSION, which builds with Go 1.26;
v5.8.3 and later need Go 1.27).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import kubernetes_validate
import kubernetes_validate.utils
import yaml
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]

from servicekit.attachments import SCANNER_SETTING, AttachmentLimits, scanner_refusals

ROOT = Path(__file__).resolve().parent.parent
OVERLAYS_DIR = ROOT / "deploy" / "k8s" / "overlays"
OVERLAYS = ("dev", "prod")
PRODUCTION_OVERLAYS = frozenset({"prod"})

KUBERNETES_VERSION = "1.31"
KUSTOMIZE_VERSION = "v5.8.2"
KUSTOMIZE_MODULE = "sigs.k8s.io/kustomize/kustomize/v5"
LOCAL_BIN = ROOT / ".local" / "bin"

GRPC_PORT = 50051
TOPIC_PARTITIONS = 3  # servicekit.kafka_admin.ensure_topics: consumers beyond this sit idle
ENVIRONMENTS = frozenset({"development", "production"})
TLS_VARS = ("PUBREV_TLS_CERT", "PUBREV_TLS_KEY", "PUBREV_TLS_CLIENT_CA")
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", "[::]"})  # noqa: S104 - what pods must bind
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")
TMP_DIR = "/tmp"  # noqa: S108 - where the writable emptyDir must be mounted

# clamd (base/clamd), which scans every new evidence file (ADR 0016).
SCANNER = "clamd"  # its Deployment's app.kubernetes.io/name
SCANNER_PORT = 3310
SCANNER_CONFIG = "/etc/clamav/clamd.conf"
SCANNER_DATABASE_DIR = "/var/lib/clamav"
CLUSTER_DOMAIN = "cluster.local"

Doc = dict[str, Any]


class SetupError(Exception):
    """The checks cannot run: no usable kustomize, or no schemas for KUBERNETES_VERSION."""


@dataclass(frozen=True)
class Problem:
    overlay: str
    kind: str
    name: str
    message: str

    def __str__(self) -> str:
        return f"{self.overlay}/{self.kind}/{self.name}: {self.message}"


@dataclass(frozen=True)
class EnvVar:
    """A container's environment variable as the kubelet would set it."""

    value: str | None  # None: not known from the manifests (a Secret, a field reference)
    secret: tuple[str, str] | None = None  # (Secret name, key) when it comes from a Secret


# -- kustomize ----------------------------------------------------------------------------


def find_kustomize() -> Path:
    override = os.environ.get("KUSTOMIZE")
    if override:
        path = Path(override)
        if not path.is_file():
            raise SetupError(f"KUSTOMIZE={override} is not a file")
        return path
    local = LOCAL_BIN / "kustomize"
    if local.is_file():
        return local
    on_path = shutil.which("kustomize")
    if on_path:
        return Path(on_path)
    return install_kustomize()


def find_go() -> str:
    for candidate in (os.environ.get("GO"), shutil.which("go"), "/usr/local/go/bin/go"):
        if candidate and Path(candidate).is_file():
            return candidate
    raise SetupError("kustomize is missing and so is Go to build it (set KUSTOMIZE or GO)")


def install_kustomize() -> Path:
    go = find_go()
    target = f"{KUSTOMIZE_MODULE}@{KUSTOMIZE_VERSION}"
    print(
        f"check_k8s: installing kustomize {KUSTOMIZE_VERSION} into {LOCAL_BIN} "
        f"({go} install {target})",
        file=sys.stderr,
    )
    LOCAL_BIN.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "GOBIN": str(LOCAL_BIN)}
    result = subprocess.run(
        [go, "install", target], env=env, capture_output=True, text=True, check=False
    )
    installed = LOCAL_BIN / "kustomize"
    if result.returncode != 0 or not installed.is_file():
        raise SetupError(f"go install {target} failed:\n{result.stderr.strip()}")
    return installed


def kustomize_version(kustomize: Path) -> str:
    result = subprocess.run(
        [str(kustomize), "version"], capture_output=True, text=True, check=False
    )
    version = result.stdout.strip()
    if result.returncode != 0 or not version.startswith("v5."):
        raise SetupError(
            f"{kustomize} is not kustomize v5 (`kustomize version` said "
            f"{(version or result.stderr.strip())!r})"
        )
    return version


def render(kustomize: Path, overlay: str) -> tuple[list[Doc], str | None]:
    """The overlay's documents, or an error message from kustomize or the YAML parser."""
    result = subprocess.run(
        [str(kustomize), "build", str(OVERLAYS_DIR / overlay)],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return [], f"kustomize build failed: {result.stderr.strip()}"
    try:
        loaded = list(yaml.safe_load_all(result.stdout))
    except yaml.YAMLError as exc:
        return [], f"kustomize output is not YAML: {exc}"
    docs = [doc for doc in loaded if doc is not None]
    if not all(isinstance(doc, dict) for doc in docs):
        return [], "kustomize output has a document that is not a mapping"
    return docs, None


# -- schema -------------------------------------------------------------------------------


# Strimzi's custom resources (the bus's principals and topics, base/kafka) are no part of
# Kubernetes' schemas: they are checked against this subset of Strimzi's v1beta2 CRDs
# (KafkaUser, KafkaTopic), as strictly (no unknown field) and as far as pubrev uses them.
STRIMZI_API = "kafka.strimzi.io/v1beta2"
_STRING = {"type": "string", "minLength": 1}
_STRIMZI_METADATA = {
    "type": "object",
    "required": ["name", "labels"],
    "additionalProperties": False,
    "properties": {
        "name": _STRING,
        "namespace": _STRING,
        "labels": {
            "type": "object",
            "required": ["strimzi.io/cluster"],
            "additionalProperties": {"type": "string"},
        },
        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}
_ACL_OPERATIONS = [
    "Read",
    "Write",
    "Create",
    "Delete",
    "Alter",
    "Describe",
    "ClusterAction",
    "AlterConfigs",
    "DescribeConfigs",
    "IdempotentWrite",
    "All",
]
STRIMZI_SCHEMAS: dict[str, dict[str, Any]] = {
    "KafkaUser": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": STRIMZI_API},
            "kind": {"const": "KafkaUser"},
            "metadata": _STRIMZI_METADATA,
            "spec": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "authentication": {
                        "type": "object",
                        "required": ["type"],
                        "additionalProperties": False,
                        "properties": {"type": {"enum": ["tls", "tls-external", "scram-sha-512"]}},
                    },
                    "authorization": {
                        "type": "object",
                        "required": ["type", "acls"],
                        "additionalProperties": False,
                        "properties": {
                            "type": {"const": "simple"},
                            "acls": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["resource", "operations"],
                                    "additionalProperties": False,
                                    "properties": {
                                        "type": {"enum": ["allow", "deny"]},
                                        "resource": {
                                            "type": "object",
                                            "required": ["type"],
                                            "additionalProperties": False,
                                            "properties": {
                                                "type": {
                                                    "enum": [
                                                        "topic",
                                                        "group",
                                                        "cluster",
                                                        "transactionalId",
                                                    ]
                                                },
                                                "name": _STRING,
                                                "patternType": {"enum": ["literal", "prefix"]},
                                            },
                                        },
                                        "operations": {
                                            "type": "array",
                                            "minItems": 1,
                                            "items": {"enum": _ACL_OPERATIONS},
                                        },
                                        "host": _STRING,
                                    },
                                },
                            },
                        },
                    },
                },
            },
        },
    },
    "KafkaTopic": {
        "type": "object",
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
        "properties": {
            "apiVersion": {"const": STRIMZI_API},
            "kind": {"const": "KafkaTopic"},
            "metadata": _STRIMZI_METADATA,
            "spec": {
                "type": "object",
                "required": ["partitions", "replicas"],
                "additionalProperties": False,
                "properties": {
                    "topicName": _STRING,
                    "partitions": {"type": "integer", "minimum": 1},
                    "replicas": {"type": "integer", "minimum": 1, "maximum": 32767},
                    "config": {
                        "type": "object",
                        "additionalProperties": {
                            "type": ["string", "integer", "boolean", "number"]
                        },
                    },
                },
            },
        },
    },
}


def strimzi_problem(doc: Doc) -> str | None:
    schema = STRIMZI_SCHEMAS.get(str(doc.get("kind")))
    if schema is None:
        return f"no schema for Strimzi kind {doc.get('kind')!r}"
    errors = sorted(Draft202012Validator(schema).iter_errors(doc), key=lambda e: list(e.path))
    if not errors:
        return None
    where = ".".join(str(part) for part in errors[0].path) or "(document)"
    return f"schema Strimzi {STRIMZI_API} (strict): {where}: {errors[0].message}"


def schema_problem(doc: Doc) -> str | None:
    if str(doc.get("apiVersion", "")).startswith("kafka.strimzi.io/"):
        return strimzi_problem(doc)
    try:
        used = kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        where = ".".join(str(part) for part in exc.path) or "(document)"
        return f"schema {KUBERNETES_VERSION} (strict): {where}: {exc.message}"
    except (kubernetes_validate.SchemaNotFoundError, kubernetes_validate.InvalidSchemaError) as exc:
        return f"schema {KUBERNETES_VERSION}: {exc.message}"
    except kubernetes_validate.utils.VersionNotSupportedError as exc:
        raise SetupError(
            f"kubernetes-validate {kubernetes_validate.__version__} has no "
            f"schemas for Kubernetes {KUBERNETES_VERSION}"
        ) from exc
    if used != KUBERNETES_VERSION:
        return f"validated against Kubernetes {used}, not {KUBERNETES_VERSION}"
    return None


# -- helpers ------------------------------------------------------------------------------


@cache
def scanning_services() -> frozenset[str]:
    """The services whose bootstrap builds an attachment store with a scanner
    (`attachments.load_scanner`): every role of theirs reads PUBREV_ATTACHMENT_SCANNER at
    start, and refuses `none` in production. Read from the code, so a service that starts
    accepting evidence is held to the setting without anyone editing this list."""
    found = frozenset(
        path.parent.name
        for path in ROOT.glob("services/*/src/*/bootstrap.py")
        if "load_scanner(" in path.read_text(encoding="utf-8")
    )
    if not found:
        raise SetupError(
            "no services/*/src/*/bootstrap.py calls load_scanner: the scanner invariant "
            "would check nothing (has the attachment store moved?)"
        )
    return found


def dig(node: Any, *path: str | int) -> Any:
    """node[path[0]][path[1]]…, or None where the path leaves the document."""
    for key in path:
        if isinstance(key, int):
            if not isinstance(node, list) or key >= len(node):
                return None
        elif not isinstance(node, dict):
            return None
        node = node[key] if isinstance(key, int) else node.get(key)
    return node


def as_list(node: Any) -> list[Any]:
    return node if isinstance(node, list) else []


def as_dict(node: Any) -> dict[str, Any]:
    return node if isinstance(node, dict) else {}


def kind_name(doc: Doc) -> tuple[str, str]:
    return str(doc.get("kind", "?")), str(dig(doc, "metadata", "name") or "?")


def selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether a matchLabels selector (the only kind used here) selects these labels."""
    match = as_dict(dig(selector, "matchLabels"))
    return bool(match) and all(labels.get(key) == value for key, value in match.items())


def image_tag_problem(image: str) -> str | None:
    if "@" in image:
        return None  # pinned by digest
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image} has no tag (it would run :latest)"
    if last.rsplit(":", 1)[1] == "latest":
        return f"image {image} is tagged latest"
    return None


def effective_env(
    container: Doc, config_maps: Mapping[str, Mapping[str, Any]]
) -> tuple[dict[str, EnvVar], list[str]]:
    """The container's environment (envFrom, then env on top), and references that dangle."""
    env: dict[str, EnvVar] = {}
    dangling: list[str] = []
    for source in as_list(container.get("envFrom")):
        prefix = str(dig(source, "prefix") or "")
        ref = dig(source, "configMapRef")
        if isinstance(ref, dict):
            data = config_maps.get(str(ref.get("name")))
            if data is None:
                if not ref.get("optional"):
                    dangling.append(f"envFrom ConfigMap {ref.get('name')} is not in the build")
                continue
            for key, value in data.items():
                env[prefix + key] = EnvVar(str(value))
    for var in as_list(container.get("env")):
        name = str(dig(var, "name"))
        if "value" in var:
            env[name] = EnvVar(str(var["value"]))
        elif (cm_ref := dig(var, "valueFrom", "configMapKeyRef")) is not None:
            data = config_maps.get(str(cm_ref.get("name")))
            if data is None or cm_ref.get("key") not in data:
                if not cm_ref.get("optional"):
                    dangling.append(
                        f"{name}: ConfigMap key {cm_ref.get('name')}/"
                        f"{cm_ref.get('key')} is not in the build"
                    )
                continue
            env[name] = EnvVar(str(data[cm_ref["key"]]))
        elif (secret_ref := dig(var, "valueFrom", "secretKeyRef")) is not None:
            env[name] = EnvVar(None, (str(secret_ref.get("name")), str(secret_ref.get("key"))))
        else:
            env[name] = EnvVar(None)
    return env, dangling


# -- invariants ---------------------------------------------------------------------------


def check_probes(container: Doc, mtls: bool) -> Iterator[str]:
    """api probes: on the gRPC port; native gRPC health checks unless mTLS rules them out.

    Kubelet's gRPC probe speaks plaintext (TLS without a client certificate at best, in
    releases after 1.31), so against a port that demands client certificates it never
    passes: there the probes must be tcpSocket ones.
    """
    for probe_name in PROBES:
        probe = container.get(probe_name)
        if not isinstance(probe, dict):
            if probe_name != "startupProbe":
                yield f"api container has no {probe_name}"
            continue
        grpc = dig(probe, "grpc")
        tcp = dig(probe, "tcpSocket")
        if mtls:
            if grpc is not None:
                yield (
                    f"{probe_name} is a gRPC probe but the server requires client "
                    "certificates (mTLS): kubelet's probe cannot present one and would "
                    "always fail; use tcpSocket on the gRPC port"
                )
            elif dig(tcp, "port") != GRPC_PORT:
                yield f"{probe_name} must be tcpSocket on port {GRPC_PORT}"
        elif dig(grpc, "port") != GRPC_PORT:
            yield f"{probe_name} must be a native gRPC probe (grpc.port {GRPC_PORT})"


def check_env(
    env: Mapping[str, EnvVar], production: bool, role: str, service: str, mounts: list[str]
) -> Iterator[str]:
    def value(name: str) -> str | None:
        var = env.get(name)
        return var.value if var is not None else None

    environment = value("PUBREV_ENVIRONMENT")
    header = value("PUBREV_DEV_IDENTITY_HEADER")
    tls_set = [name for name in TLS_VARS if name in env]
    if production and environment != "production":
        yield f"PUBREV_ENVIRONMENT is {environment!r} in production, not 'production'"
    elif environment not in ENVIRONMENTS:
        yield f"PUBREV_ENVIRONMENT is {environment!r}, not one of {sorted(ENVIRONMENTS)}"
    if production:
        if header != "false":
            yield f"PUBREV_DEV_IDENTITY_HEADER is {header!r} in production: must be 'false'"
        for name in TLS_VARS:
            if name not in tls_set:
                yield f"{name} is not set: production requires mTLS"
    elif environment == "production" and header != "false":
        yield "PUBREV_DEV_IDENTITY_HEADER must be 'false' with PUBREV_ENVIRONMENT=production"
    if tls_set and len(tls_set) != len(TLS_VARS):
        yield f"TLS settings go together: {', '.join(tls_set)} set without the others"
    for name in tls_set:
        path = value(name)
        if path is None or not any(path.startswith(mount.rstrip("/") + "/") for mount in mounts):
            yield f"{name}={path} is not in a mounted volume"
    database = env.get("DATABASE_URL")
    expected = (f"{service}-db", "database-url")
    if database is None or database.secret != expected:
        yield f"DATABASE_URL must come from Secret {expected[0]}, key {expected[1]}"
    if role == "api":
        host = value("PUBREV_GRPC_HOST")
        if host not in WILDCARD_HOSTS:
            yield (
                f"PUBREV_GRPC_HOST is {host!r}: the api must listen on all interfaces "
                "(0.0.0.0) for the Service and the probes to reach it"
            )
        if value("PUBREV_GRPC_PORT") != str(GRPC_PORT):
            yield f"PUBREV_GRPC_PORT must be {GRPC_PORT}"


def check_bus(
    env: Mapping[str, EnvVar], production: bool, container: Doc, pod: Doc, kafka_users: set[str]
) -> Iterator[str]:
    """The Kafka client settings: production is SASL_SSL; a SASL principal is a KafkaUser
    of the build whose password file comes from its Secret (the one Strimzi makes, named
    after the user); the CA file is mounted."""

    def value(name: str) -> str | None:
        var = env.get(name)
        return var.value if var is not None else None

    protocol = value("PUBREV_KAFKA_SECURITY_PROTOCOL") or "PLAINTEXT"
    if production and protocol != "SASL_SSL":
        yield f"PUBREV_KAFKA_SECURITY_PROTOCOL is {protocol!r} in production, not 'SASL_SSL'"
    secrets = {
        str(dig(v, "name")): str(dig(v, "secret", "secretName"))
        for v in as_list(pod.get("volumes"))
        if dig(v, "secret") is not None
    }
    mounts = {
        str(dig(m, "mountPath")).rstrip("/") + "/": str(dig(m, "name"))
        for m in as_list(container.get("volumeMounts"))
    }

    def secret_of(path: str | None) -> str | None:
        for mount, volume in mounts.items():
            if path is not None and path.startswith(mount):
                return secrets.get(volume)
        return None

    if protocol.startswith("SASL_"):
        user = value("PUBREV_KAFKA_SASL_USERNAME")
        if user not in kafka_users:
            yield (
                f"PUBREV_KAFKA_SASL_USERNAME is {user!r}, which is no KafkaUser of the "
                f"build ({', '.join(sorted(kafka_users)) or 'none'})"
            )
        password = value("PUBREV_KAFKA_SASL_PASSWORD_FILE")
        if secret_of(password) != user:
            yield (
                f"PUBREV_KAFKA_SASL_PASSWORD_FILE={password} is not in a volume of Secret "
                f"{user} (the KafkaUser's, made by Strimzi)"
            )
    ca = value("PUBREV_KAFKA_CA_FILE")
    if ca is not None and secret_of(ca) is None:
        yield f"PUBREV_KAFKA_CA_FILE={ca} is not in a mounted Secret volume"


def check_security(pod: Doc, containers: list[Doc]) -> Iterator[str]:
    if pod.get("automountServiceAccountToken") is not False:
        yield "automountServiceAccountToken must be false"
    if dig(pod, "securityContext", "runAsNonRoot") is not True:
        yield "pod securityContext.runAsNonRoot must be true"
    if dig(pod, "securityContext", "seccompProfile", "type") != "RuntimeDefault":
        yield "pod securityContext.seccompProfile.type must be RuntimeDefault"
    tmp_volumes = {str(dig(v, "name")) for v in as_list(pod.get("volumes")) if "emptyDir" in v}
    for container in containers:
        name = container.get("name")
        context = as_dict(container.get("securityContext"))
        if context.get("readOnlyRootFilesystem") is not True:
            yield f"container {name}: readOnlyRootFilesystem must be true"
        if context.get("allowPrivilegeEscalation") is not False:
            yield f"container {name}: allowPrivilegeEscalation must be false"
        if "ALL" not in as_list(dig(context, "capabilities", "drop")):
            yield f"container {name}: capabilities must drop ALL"
        if not any(
            dig(m, "mountPath") == TMP_DIR and dig(m, "name") in tmp_volumes
            for m in as_list(container.get("volumeMounts"))
        ):
            yield f"container {name}: {TMP_DIR} must be an emptyDir (the root is read-only)"


def check_scanner_setting(
    env: Mapping[str, EnvVar],
    production: bool,
    service: str,
    scanning: frozenset[str],
    namespace: str,
    docs: list[Doc],
) -> Iterator[str]:
    """PUBREV_ATTACHMENT_SCANNER: in production every role of a service that scans evidence
    has it, and it is one the service accepts there (`attachments.scanner_refusals`: not
    `none`, a well-formed clamd://<host>:<port>); in every overlay a clamd address names a
    Service of the build on that port."""
    var = env.get(SCANNER_SETTING)
    if var is None:
        if production and service in scanning:
            yield (
                f"{SCANNER_SETTING} is not set: {service} scans evidence and refuses to "
                "start in production without a scanner (clamd://<host>:<port>)"
            )
        return
    if var.value is None:
        yield f"{SCANNER_SETTING} must be a value or a ConfigMap key, so it can be checked"
        return
    environment = env.get("PUBREV_ENVIRONMENT")
    yield from scanner_refusals(
        var.value,
        "production" if production else str(environment.value if environment else ""),
    )
    parts = urlsplit(var.value.strip())
    if parts.scheme != "clamd" or not parts.hostname:
        return
    try:
        port = parts.port or SCANNER_PORT
    except ValueError:
        return  # scanner_refusals said so
    host = parts.hostname
    if not any(
        d.get("kind") == "Service"
        and host in service_host_names(d, namespace)
        and any(dig(p, "port") == port for p in as_list(dig(d, "spec", "ports")))
        for d in docs
    ):
        yield (
            f"{SCANNER_SETTING} names {host}:{port}, which is no Service port of the build "
            f"(clamd is Service {SCANNER}, port {SCANNER_PORT})"
        )


def service_host_names(service: Doc, client_namespace: str) -> set[str]:
    """The names under which a pod in `client_namespace` resolves this Service."""
    name = str(dig(service, "metadata", "name"))
    namespace = str(dig(service, "metadata", "namespace") or "default")
    names = {f"{name}.{namespace}", f"{name}.{namespace}.svc"}
    names.add(f"{name}.{namespace}.svc.{CLUSTER_DOMAIN}")
    if namespace == client_namespace:
        names.add(name)
    return names


def clamd_size(value: str | None) -> int | None:
    """A clamd.conf size (digits, optionally K or M: KiB, MiB) in bytes, None if not one."""
    text = (value or "").strip()
    factor = {"k": 1024, "m": 1024 * 1024}.get(text[-1:].lower(), 1)
    digits = text[:-1] if factor > 1 else text
    return int(digits) * factor if digits.isdigit() else None


def clamd_options(text: str) -> dict[str, str]:
    options = {}
    for line in text.splitlines():
        words = line.split(None, 1)
        if words and not words[0].startswith("#"):
            options[words[0]] = words[1].strip() if len(words) > 1 else ""
    return options


def check_clamd_conf(text: str) -> Iterator[str]:
    """The limits that decide whether an evidence file is scanned whole: stated, not left to
    the defaults of whichever ClamAV release runs (they differ between releases)."""
    options = clamd_options(text)
    max_bytes = AttachmentLimits().max_bytes
    sizes = {
        name: clamd_size(options.get(name))
        for name in ("StreamMaxLength", "MaxFileSize", "MaxScanSize")
    }
    for name, size in sizes.items():
        if size is None:
            yield f"clamd.conf: {name} must be set to a size (got {options.get(name)!r})"
    stream, file_size, scan = (
        sizes["StreamMaxLength"],
        sizes["MaxFileSize"],
        sizes["MaxScanSize"],
    )
    if stream is not None and stream < max_bytes:
        yield (
            f"clamd.conf: StreamMaxLength {options['StreamMaxLength']} is below the "
            f"{max_bytes // 1024 // 1024} MiB an evidence file may have: clamd would refuse "
            "the largest files (ScanFailed)"
        )
    if stream is not None and file_size is not None and file_size < stream:
        yield (
            "clamd.conf: MaxFileSize is below StreamMaxLength: a file above it is answered "
            "OK without being scanned"
        )
    if file_size is not None and scan is not None and scan < file_size:
        yield "clamd.conf: MaxScanSize is below MaxFileSize"
    if options.get("TCPSocket") != str(SCANNER_PORT):
        yield f"clamd.conf: TCPSocket must be {SCANNER_PORT} (the services scan over TCP)"


def check_scanner_deployment(
    doc: Doc, docs: list[Doc], config_maps: Mapping[str, Mapping[str, Any]]
) -> Iterator[str]:
    """clamd's Deployment: pubrev's labels, a pinned image, the pod security settings (with
    emptyDirs for /tmp and the signatures), port 3310 with readiness and liveness probes
    on it (tcpSocket, or the image's PING check), a Service on 3310, and a clamd.conf from
    a ConfigMap of the build whose limits let every evidence file be scanned whole."""
    spec = as_dict(doc.get("spec"))
    pod = as_dict(dig(spec, "template", "spec"))
    pod_labels = as_dict(dig(spec, "template", "metadata", "labels"))
    containers = [c for c in as_list(pod.get("containers")) if isinstance(c, dict)]
    init_containers = [c for c in as_list(pod.get("initContainers")) if isinstance(c, dict)]

    if pod_labels.get("app.kubernetes.io/part-of") != "pubrev":
        yield "pods lack the label app.kubernetes.io/part-of=pubrev (NetworkPolicies use it)"
    if not selects(spec.get("selector"), pod_labels):
        yield "spec.selector does not select the pod template's labels"
    for container in [*init_containers, *containers]:
        problem = image_tag_problem(str(container.get("image")))
        if problem:
            yield f"container {container.get('name')}: {problem}"
    yield from check_security(pod, containers)

    empty_dirs = {str(dig(v, "name")) for v in as_list(pod.get("volumes")) if "emptyDir" in v}
    config_volumes = {
        str(dig(v, "name")): str(dig(v, "configMap", "name"))
        for v in as_list(pod.get("volumes"))
        if dig(v, "configMap") is not None
    }
    clamd = [
        c
        for c in containers
        if any(
            dig(p, "containerPort") == SCANNER_PORT and dig(p, "name") == SCANNER
            for p in as_list(c.get("ports"))
        )
    ]
    if len(clamd) != 1:
        yield f"needs one container with containerPort {SCANNER_PORT} named {SCANNER}"
        return
    container = clamd[0]
    name = container.get("name")
    for probe_name in ("readinessProbe", "livenessProbe"):
        probe = container.get(probe_name)
        on_port = dig(probe, "tcpSocket", "port") in (SCANNER_PORT, SCANNER)
        pings = "clamdcheck.sh" in " ".join(map(str, as_list(dig(probe, "exec", "command"))))
        if not (on_port or pings):
            yield (
                f"container {name}: {probe_name} must be tcpSocket on {SCANNER_PORT} or "
                "the image's PING check (clamdcheck.sh)"
            )
    mounts = {str(dig(m, "mountPath")): m for m in as_list(container.get("volumeMounts"))}
    if dig(mounts.get(SCANNER_DATABASE_DIR), "name") not in empty_dirs:
        yield (
            f"container {name}: {SCANNER_DATABASE_DIR} must be an emptyDir (freshclam "
            "writes the signatures there; the root is read-only)"
        )
    conf_mount = mounts.get(SCANNER_CONFIG)
    data = config_maps.get(config_volumes.get(str(dig(conf_mount, "name")), ""))
    key = str(dig(conf_mount, "subPath"))
    if data is None or key not in data:
        yield (
            f"container {name}: {SCANNER_CONFIG} must be mounted (subPath) from a "
            "ConfigMap of the build"
        )
    else:
        for message in check_clamd_conf(str(data[key])):
            yield f"container {name}: {message}"

    if not any(
        d.get("kind") == "Service"
        and selects({"matchLabels": dig(d, "spec", "selector")}, pod_labels)
        and any(dig(p, "port") == SCANNER_PORT for p in as_list(dig(d, "spec", "ports")))
        for d in docs
    ):
        yield f"no Service selects these pods on port {SCANNER_PORT}"


def check_deployment(
    doc: Doc, overlay: str, docs: list[Doc], config_maps: Mapping[str, Mapping[str, Any]]
) -> Iterator[str]:
    """The invariants of one Deployment, as problem messages.

    Every overlay: images tagged (not latest); relay 1 replica, Recreate; consumers at most
    the partition count; api probes on 50051 (gRPC, or tcpSocket under mTLS), its port,
    a Service and a PDB; DATABASE_URL from Secret <service>-db; TLS settings all or none,
    inside a mounted volume; the pod security settings. Production overlays also: every
    container has PUBREV_ENVIRONMENT=production, PUBREV_DEV_IDENTITY_HEADER=false and the
    three TLS settings. Every overlay: a SASL principal is a KafkaUser of the build, its
    password file from that user's Secret; production: the bus is SASL_SSL. Production:
    every role of a service that scans evidence has PUBREV_ATTACHMENT_SCANNER, not `none`;
    every overlay: a clamd address there is a Service port of the build.
    """
    spec = as_dict(doc.get("spec"))
    pod = as_dict(dig(spec, "template", "spec"))
    pod_labels = as_dict(dig(spec, "template", "metadata", "labels"))
    role = str(pod_labels.get("app.kubernetes.io/component"))
    service = str(pod_labels.get("app.kubernetes.io/name"))
    containers = [c for c in as_list(pod.get("containers")) if isinstance(c, dict)]
    init_containers = [c for c in as_list(pod.get("initContainers")) if isinstance(c, dict)]

    if pod_labels.get("app.kubernetes.io/part-of") != "pubrev":
        yield "pods lack the label app.kubernetes.io/part-of=pubrev (NetworkPolicies use it)"
    if role not in {"api", "relay", "consumer", "projector"}:
        yield (
            f"label app.kubernetes.io/component is {role!r}, not api, relay, consumer or projector"
        )
    if not selects(spec.get("selector"), pod_labels):
        yield "spec.selector does not select the pod template's labels"

    for container in [*init_containers, *containers]:
        problem = image_tag_problem(str(container.get("image")))
        if problem:
            yield f"container {container.get('name')}: {problem}"

    replicas = spec.get("replicas")
    if role in ("relay", "projector"):
        if replicas != 1:
            yield f"{role} must run exactly 1 replica, has {replicas}"
        if dig(spec, "strategy", "type") != "Recreate":
            yield f"{role} strategy must be Recreate (never two during a rollout)"
    if role == "consumer" and isinstance(replicas, int) and replicas > TOPIC_PARTITIONS:
        yield f"consumer replicas {replicas} exceed the {TOPIC_PARTITIONS} topic partitions"
    if pod.get("terminationGracePeriodSeconds") != 30:
        yield "terminationGracePeriodSeconds must be 30 (SIGTERM drains and commits)"

    yield from check_security(pod, containers)

    for container in containers:
        name = container.get("name")
        env, dangling = effective_env(container, config_maps)
        for message in dangling:
            yield f"container {name}: {message}"
        mounts = [str(dig(m, "mountPath")) for m in as_list(container.get("volumeMounts"))]
        mtls = all(var in env for var in TLS_VARS)
        for message in check_env(env, overlay in PRODUCTION_OVERLAYS, role, service, mounts):
            yield f"container {name}: {message}"
        kafka_users = {kind_name(d)[1] for d in docs if d.get("kind") == "KafkaUser"}
        for message in check_bus(env, overlay in PRODUCTION_OVERLAYS, container, pod, kafka_users):
            yield f"container {name}: {message}"
        for message in check_scanner_setting(
            env,
            overlay in PRODUCTION_OVERLAYS,
            service,
            scanning_services(),
            str(dig(doc, "metadata", "namespace") or "default"),
            docs,
        ):
            yield f"container {name}: {message}"
        if role == "api":
            for message in check_probes(container, mtls):
                yield f"container {name}: {message}"
            ports = {
                dig(p, "name"): dig(p, "containerPort") for p in as_list(container.get("ports"))
            }
            if ports.get("grpc") != GRPC_PORT:
                yield f"container {name}: needs containerPort {GRPC_PORT} named grpc"

    if role == "api":
        if not any(
            d.get("kind") == "Service"
            and selects({"matchLabels": dig(d, "spec", "selector")}, pod_labels)
            and any(
                dig(p, "port") == GRPC_PORT and dig(p, "name") == "grpc"
                for p in as_list(dig(d, "spec", "ports"))
            )
            for d in docs
        ):
            yield f"no Service selects these pods on port {GRPC_PORT} (named grpc)"
        if not any(
            d.get("kind") == "PodDisruptionBudget"
            and selects(dig(d, "spec", "selector"), pod_labels)
            for d in docs
        ):
            yield "no PodDisruptionBudget selects these pods"


def check_overlay(overlay: str, docs: list[Doc]) -> list[Problem]:
    problems: list[Problem] = []
    config_maps = {
        str(dig(d, "metadata", "name")): as_dict(d.get("data"))
        for d in docs
        if d.get("kind") == "ConfigMap"
    }
    for doc in docs:
        kind, name = kind_name(doc)
        schema = schema_problem(doc)
        if schema:
            problems.append(Problem(overlay, kind, name, schema))
        if kind == "Deployment":
            scanner = dig(doc, "spec", "template", "metadata", "labels", "app.kubernetes.io/name")
            problems.extend(
                Problem(overlay, kind, name, message)
                for message in (
                    check_scanner_deployment(doc, docs, config_maps)
                    if scanner == SCANNER
                    else check_deployment(doc, overlay, docs, config_maps)
                )
            )
        if kind == "KafkaTopic" and dig(doc, "spec", "partitions") != TOPIC_PARTITIONS:
            problems.append(
                Problem(
                    overlay,
                    kind,
                    name,
                    f"partitions must be {TOPIC_PARTITIONS} (the consumers' replica limit)",
                )
            )
        if kind == "KafkaUser" and dig(doc, "spec", "authentication", "type") != "scram-sha-512":
            problems.append(
                Problem(
                    overlay,
                    kind,
                    name,
                    "authentication must be scram-sha-512 "
                    "(the services' PUBREV_KAFKA_SASL_MECHANISM)",
                )
            )
    deployments = {kind_name(d)[1] for d in docs if d.get("kind") == "Deployment"}
    for role in ("api", "relay", "consumer", "projector"):
        if not any(n.endswith(f"-{role}") for n in deployments):
            problems.append(Problem(overlay, "Deployment", f"*-{role}", "none in the build"))
    return problems


def run_checks() -> tuple[list[Problem], list[str], str]:
    kustomize = find_kustomize()
    version = kustomize_version(kustomize)
    problems: list[Problem] = []
    counts: list[str] = []
    for overlay in OVERLAYS:
        docs, error = render(kustomize, overlay)
        if error is not None:
            problems.append(Problem(overlay, "Kustomization", f"overlays/{overlay}", error))
            continue
        problems.extend(check_overlay(overlay, docs))
        counts.append(f"{overlay} {len(docs)}")
    return problems, counts, version


def main() -> int:
    try:
        problems, counts, version = run_checks()
    except SetupError as exc:
        print(f"check_k8s: {exc}", file=sys.stderr)
        return 2
    for problem in problems:
        print(problem)
    if problems:
        print(f"check_k8s: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print(
        f"k8s manifests OK: {', '.join(counts)} documents validated against Kubernetes "
        f"{KUBERNETES_VERSION} (strict), invariants hold (kustomize {version})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
