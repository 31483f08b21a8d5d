"""A FAKE of HashiCorp Vault's transit engine and Kubernetes login, on 127.0.0.1, for the
tests of casework's Vault adapter (casework.adapters.kek.VaultTransit). It is not Vault: it
speaks the same HTTP API for the calls the adapter makes (encrypt, decrypt, rewrap, read a
key, rotate it; Kubernetes login) with the same shapes and status codes, keeps its keys in
memory, and derives a key per context (a `derived` transit key) by HMAC rather than by
Vault's HKDF. No real Vault is available where these tests run."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_CIPHERTEXT = re.compile(r"vault:v([0-9]+):(.+)")


class FakeVaultTransit:
    def __init__(
        self,
        mount: str = "transit",
        auth_mount: str = "kubernetes",
        k8s_role: str = "casework-api",
        k8s_jwt: str = "a-service-account-jwt",
        lease_seconds: int = 3600,
    ) -> None:
        self.mount = mount
        self.auth_mount = auth_mount
        self.k8s_role = k8s_role
        self.k8s_jwt = k8s_jwt
        self.lease_seconds = lease_seconds
        self.keys: dict[str, dict[int, bytes]] = {}
        self.tokens: set[str] = set()
        self.calls: list[str] = []
        """Every request as `METHOD path` (what the adapter asked, in order)."""
        self.plaintexts_seen = 0
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- the test's controls ---------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def create_key(self, name: str) -> None:
        with self._lock:
            self.keys[name] = {1: AESGCM.generate_key(bit_length=256)}

    def rotate(self, name: str) -> int:
        with self._lock:
            versions = self.keys[name]
            versions[max(versions) + 1] = AESGCM.generate_key(bit_length=256)
            return max(versions)

    def issue_token(self) -> str:
        token = "hvs.fake-" + secrets.token_hex(8)
        with self._lock:
            self.tokens.add(token)
        return token

    def revoke_all_tokens(self) -> None:
        with self._lock:
            self.tokens.clear()

    def __enter__(self) -> FakeVaultTransit:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- the API ---------------------------------------------------------------------------

    def _derived(self, name: str, version: int, context: bytes) -> bytes:
        return hmac.new(self.keys[name][version], context, hashlib.sha256).digest()

    def _encrypt(self, name: str, plaintext: bytes, context: bytes) -> str:
        version = max(self.keys[name])
        nonce = os.urandom(12)
        sealed = AESGCM(self._derived(name, version, context)).encrypt(nonce, plaintext, None)
        return f"vault:v{version}:{base64.b64encode(nonce + sealed).decode()}"

    def _decrypt(self, name: str, ciphertext: str, context: bytes) -> bytes:
        match = _CIPHERTEXT.fullmatch(ciphertext)
        if match is None:
            raise ValueError("invalid ciphertext: no prefix")
        version = int(match.group(1))
        if version not in self.keys[name]:
            raise ValueError("invalid key version")
        raw = base64.b64decode(match.group(2))
        try:
            return AESGCM(self._derived(name, version, context)).decrypt(raw[:12], raw[12:], None)
        except InvalidTag:
            raise ValueError("cipher: message authentication failed") from None

    def answer(
        self, method: str, path: str, token: str, body: dict[str, Any]
    ) -> tuple[int, dict[str, Any]]:
        with self._lock:
            self.calls.append(f"{method} {path}")
            if path == f"/v1/auth/{self.auth_mount}/login" and method == "POST":
                if body.get("role") != self.k8s_role or body.get("jwt") != self.k8s_jwt:
                    return 400, {"errors": ["permission denied"]}
                token = "hvs.fake-" + secrets.token_hex(8)
                self.tokens.add(token)
                return 200, {"auth": {"client_token": token, "lease_duration": self.lease_seconds}}
            if token not in self.tokens:
                return 403, {"errors": ["permission denied"]}
            parts = path.split("/")
            if len(parts) != 5 or parts[1] != "v1" or parts[2] != self.mount:
                return 404, {"errors": []}
            action, name = parts[3], parts[4]
            if name not in self.keys:
                return 400, {"errors": ["encryption key not found"]}
            if action == "keys" and method == "GET":
                return 200, {
                    "data": {
                        "type": "aes256-gcm96",
                        "derived": True,
                        "latest_version": max(self.keys[name]),
                        "keys": {str(v): 0 for v in self.keys[name]},
                    }
                }
            if method != "POST" or action not in ("encrypt", "decrypt", "rewrap"):
                return 405, {"errors": []}
            try:
                context = base64.b64decode(body["context"], validate=True)
            except (KeyError, binascii.Error, TypeError):
                return 400, {
                    "errors": [
                        "missing 'context' for key derivation; the key was "
                        "created using a derived key, which means additional,"
                        " per-request information must be included"
                    ]
                }
            try:
                if action == "encrypt":
                    self.plaintexts_seen += 1
                    plaintext = base64.b64decode(body["plaintext"], validate=True)
                    return 200, {"data": {"ciphertext": self._encrypt(name, plaintext, context)}}
                if action == "decrypt":
                    plaintext = self._decrypt(name, str(body["ciphertext"]), context)
                    return 200, {"data": {"plaintext": base64.b64encode(plaintext).decode()}}
                plaintext = self._decrypt(name, str(body["ciphertext"]), context)
                return 200, {"data": {"ciphertext": self._encrypt(name, plaintext, context)}}
            except (ValueError, KeyError, binascii.Error) as error:
                return 400, {"errors": [str(error)]}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except ValueError:
                    body = {}
                status, answer = fake.answer(
                    self.command, self.path, self.headers.get("X-Vault-Token", ""), body
                )
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the base's name)
                pass

        return Handler
