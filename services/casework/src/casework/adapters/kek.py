"""The key-encryption key's providers (application.ports.KeyEncryptionKey).

- `LocalKek`: the KEK in a local key file, for development and tests. Production refuses it
  (personal_data.PersonalDataSettings): a key on the service's own disk protects nothing from
  whoever holds the disk and the database.
- `VaultTransit`: HashiCorp Vault's transit engine, for production. The KEK never leaves
  Vault: data keys go in to be wrapped (encrypt), wrapped keys go in to be unwrapped
  (decrypt), and a rotation re-wraps inside Vault (rewrap) without the data key coming out.
  The transit key must be `derived` (the case id is the derivation context: a wrapped key
  copied to another case does not unwrap there). Spoken to over plain HTTPS (httpx, already
  a dependency) rather than through hvac: five endpoints, fully typed, no extra packages.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import httpx
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from casework.application.ports import KeyProviderError, WrappedKey

KEY_BYTES = 32


# -- a local key file ------------------------------------------------------------------------


class LocalKek:
    """A KEK of AES-256-GCM keys by version, from a local file (JSON: `kek_id` and
    `versions`, version → base64 key). Wraps with the highest version; unwraps with the
    version a wrapped key names. Rotate by adding a version (`rotate_file`) and restarting:
    the api re-wraps every stored key under it at start."""

    def __init__(self, kek_id: str, versions: dict[int, bytes]) -> None:
        if not versions:
            raise ValueError("a key file needs at least one key version")
        bad = [v for v, key in versions.items() if v < 1 or len(key) != KEY_BYTES]
        if bad:
            raise ValueError(f"key versions {bad} are not 256-bit keys numbered from 1")
        self._kek_id = f"local:{kek_id}"
        self._versions = dict(versions)

    @property
    def kek_id(self) -> str:
        return self._kek_id

    @classmethod
    def ephemeral(cls) -> LocalKek:
        """A KEK held in memory only (unit tests)."""
        return cls(secrets.token_hex(8), {1: AESGCM.generate_key(bit_length=256)})

    @classmethod
    def from_file(cls, path: Path) -> LocalKek:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            versions = {
                int(v): base64.b64decode(k, validate=True) for v, k in document["versions"].items()
            }
            return cls(str(document["kek_id"]), versions)
        except (OSError, ValueError, KeyError, TypeError) as error:
            # The file's content is a secret: the error names the file and the kind only.
            raise ValueError(
                f"key file {path} is unreadable or malformed ({type(error).__name__})"
            ) from None

    @classmethod
    def create_file(cls, path: Path) -> LocalKek:
        """Writes a new key file (version 1), readable by its owner only; an existing file
        is kept and read instead (two processes starting together agree on one key)."""
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            document = {
                "kek_id": secrets.token_hex(8),
                "versions": {"1": base64.b64encode(AESGCM.generate_key(bit_length=256)).decode()},
            }
            _write_new(path, document)
        return cls.from_file(path)

    @staticmethod
    def rotate_file(path: Path) -> int:
        """Adds a new version to a key file; its number."""
        document = json.loads(path.read_text(encoding="utf-8"))
        version = max(int(v) for v in document["versions"]) + 1
        document["versions"][str(version)] = base64.b64encode(
            AESGCM.generate_key(bit_length=256)
        ).decode()
        _write_replacing(path, document)
        return version

    def current_version(self) -> int:
        return max(self._versions)

    def _aad(self, version: int, context: bytes) -> bytes:
        # The KEK's id and version are authenticated with the case: a wrapped key relabelled
        # with another version or moved to another case fails to unwrap.
        return f"pubrev.casework.dek|{self._kek_id}|{version}|".encode() + context

    def wrap(self, data_key: bytes, context: bytes) -> WrappedKey:
        version = self.current_version()
        nonce = os.urandom(12)
        sealed = AESGCM(self._versions[version]).encrypt(
            nonce, data_key, self._aad(version, context)
        )
        return WrappedKey(self._kek_id, version, nonce + sealed)

    def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes:
        if wrapped.kek_id != self._kek_id:
            raise KeyProviderError(
                f"the key was wrapped by {wrapped.kek_id[:40]}, not by {self._kek_id}"
            )
        key = self._versions.get(wrapped.kek_version)
        if key is None:
            raise KeyProviderError(f"{self._kek_id} has no version {wrapped.kek_version}")
        raw = wrapped.ciphertext
        try:
            return AESGCM(key).decrypt(raw[:12], raw[12:], self._aad(wrapped.kek_version, context))
        except InvalidTag:
            raise KeyProviderError("the wrapped key does not unwrap for this case") from None

    def rewrap(self, wrapped: WrappedKey, context: bytes) -> WrappedKey:
        return self.wrap(self.unwrap(wrapped, context), context)


def _write_new(path: Path, document: dict[str, Any]) -> None:
    """Writes the file whole and only if it does not exist (a hard link is atomic and
    exclusive): no reader ever sees half a key file, and a concurrent creator's wins."""
    tmp = _tmp_with(path, document)
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(tmp)


def _write_replacing(path: Path, document: dict[str, Any]) -> None:
    os.replace(_tmp_with(path, document), path)


def _tmp_with(path: Path, document: dict[str, Any]) -> str:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as out:  # mkstemp: mode 0600
        json.dump(document, out)
    return tmp


class NoKek:
    """What the roles that keep no keys hold (relay, consumer, projector): every use is
    refused. They never wrap or unwrap, so they never get the KEK, nor Vault's token."""

    kek_id = "none"

    def current_version(self) -> int:
        raise KeyProviderError("this role holds no key-encryption key: only the api does")

    def wrap(self, data_key: bytes, context: bytes) -> WrappedKey:
        raise KeyProviderError("this role holds no key-encryption key: only the api does")

    def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes:
        raise KeyProviderError("this role holds no key-encryption key: only the api does")

    def rewrap(self, wrapped: WrappedKey, context: bytes) -> WrappedKey:
        raise KeyProviderError("this role holds no key-encryption key: only the api does")


# -- Vault transit ---------------------------------------------------------------------------


class TokenSource(Protocol):
    def token(self, client: httpx.Client, renew: bool) -> str:
        """A Vault token; `renew`: the last one was refused, get another."""
        ...


class TokenFile:
    """A token in a file kept fresh by someone else (Vault Agent): read at every use."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def token(self, client: httpx.Client, renew: bool) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise KeyProviderError(
                f"Vault token file {self.path} unreadable ({type(error).__name__})"
            ) from None


class KubernetesLogin:
    """Vault's Kubernetes auth: the pod's service-account token (a projected file, for the
    audience Vault expects) buys a Vault token, cached until 80% of its lease or a refusal."""

    def __init__(
        self,
        role: str,
        jwt_file: Path,
        mount: str = "kubernetes",
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.role = role
        self.jwt_file = jwt_file
        self.mount = mount
        self.clock = clock
        self._token = ""
        self._until = 0.0
        self._lock = threading.Lock()

    def token(self, client: httpx.Client, renew: bool) -> str:
        with self._lock:
            if renew or not self._token or self.clock() >= self._until:
                try:
                    jwt = self.jwt_file.read_text(encoding="utf-8").strip()
                except OSError as error:
                    raise KeyProviderError(
                        f"service-account token {self.jwt_file} unreadable ({type(error).__name__})"
                    ) from None
                auth = _vault_answer(
                    client.post(
                        f"/v1/auth/{self.mount}/login", json={"role": self.role, "jwt": jwt}
                    ),
                    "login",
                )["auth"]
                self._token = str(auth["client_token"])
                self._until = self.clock() + 0.8 * float(auth.get("lease_duration") or 300)
            return self._token


_CIPHERTEXT = re.compile(r"vault:v([1-9][0-9]*):[A-Za-z0-9+/=]+")


class VaultTransit:
    """The KEK is a transit key in Vault (`<mount>/keys/<key>`, type aes256-gcm96,
    derived). What the service's Vault policy needs: update on `<mount>/encrypt/<key>`,
    `<mount>/decrypt/<key>`, `<mount>/rewrap/<key>`, read on `<mount>/keys/<key>`."""

    def __init__(
        self,
        addr: str,
        key: str,
        tokens: TokenSource,
        mount: str = "transit",
        namespace: str = "",
        verify: str | bool = True,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.key = key
        self.mount = mount
        self.tokens = tokens
        headers = {"X-Vault-Namespace": namespace} if namespace else {}
        self.client = httpx.Client(
            base_url=addr.rstrip("/"),
            headers=headers,
            verify=verify,
            timeout=timeout,
            follow_redirects=False,
            transport=transport,
        )
        self._kek_id = f"vault:{mount}/{key}"

    @property
    def kek_id(self) -> str:
        return self._kek_id

    def close(self) -> None:
        self.client.close()

    def _call(self, method: str, action: str, body: dict[str, str] | None = None) -> dict[str, Any]:
        path = f"/v1/{self.mount}/{action}/{self.key}"
        for renew in (False, True):
            token = self.tokens.token(self.client, renew)
            try:
                response = self.client.request(
                    method, path, json=body, headers={"X-Vault-Token": token}
                )
            except httpx.HTTPError as error:
                raise KeyProviderError(
                    f"Vault unreachable for {action} ({type(error).__name__})"
                ) from None
            if response.status_code == 403 and not renew:
                continue  # an expired or revoked token: once more with a new one
            data: dict[str, Any] = _vault_answer(response, action)["data"]
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    def current_version(self) -> int:
        return int(self._call("GET", "keys")["latest_version"])

    @staticmethod
    def _context(context: bytes) -> str:
        return base64.b64encode(context).decode()

    def _wrapped(self, data: dict[str, Any]) -> WrappedKey:
        text = str(data.get("ciphertext", ""))
        match = _CIPHERTEXT.fullmatch(text)
        if match is None:
            raise KeyProviderError("Vault answered something that is not a transit ciphertext")
        return WrappedKey(self._kek_id, int(match.group(1)), text.encode())

    def _mine(self, wrapped: WrappedKey) -> str:
        if wrapped.kek_id != self._kek_id:
            raise KeyProviderError(
                f"the key was wrapped by {wrapped.kek_id[:40]}, not by {self._kek_id}"
            )
        return wrapped.ciphertext.decode()

    def wrap(self, data_key: bytes, context: bytes) -> WrappedKey:
        return self._wrapped(
            self._call(
                "POST",
                "encrypt",
                {
                    "plaintext": base64.b64encode(data_key).decode(),
                    "context": self._context(context),
                },
            )
        )

    def unwrap(self, wrapped: WrappedKey, context: bytes) -> bytes:
        data = self._call(
            "POST",
            "decrypt",
            {"ciphertext": self._mine(wrapped), "context": self._context(context)},
        )
        return base64.b64decode(data["plaintext"])

    def rewrap(self, wrapped: WrappedKey, context: bytes) -> WrappedKey:
        return self._wrapped(
            self._call(
                "POST",
                "rewrap",
                {"ciphertext": self._mine(wrapped), "context": self._context(context)},
            )
        )


def _vault_answer(response: httpx.Response, action: str) -> dict[str, Any]:
    if response.status_code >= 400:
        try:
            errors = response.json().get("errors") or []
        except ValueError:
            errors = []
        first = str(errors[0])[:120] if errors else ""
        raise KeyProviderError(
            f"Vault refused {action}: HTTP {response.status_code}"
            + (f" ({first})" if first else "")
        )
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise KeyProviderError(f"Vault's answer to {action} is not JSON") from None
    return body
