"""Personal data encrypted per case (AES-256-GCM), keys in their own table.

The event store holds only ciphertext; the key of each case lives in `pd_keys`, outside
the events. ShredPersonalData deletes the key: the events stay intact and the name and
phone can never be read again (crypto-shredding). Keys never leave this service's database.
"""

from __future__ import annotations

import base64
import json
import os
import uuid

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from psycopg_pool import ConnectionPool

DDL = "CREATE TABLE IF NOT EXISTS pd_keys (case_id uuid PRIMARY KEY, key bytea NOT NULL)"
VERSION = "v1"


def _seal(key: bytes, case_id: uuid.UUID, data: dict[str, str]) -> str:
    nonce = os.urandom(12)
    # The case id is authenticated with the data: a ciphertext moved to another case fails.
    sealed = AESGCM(key).encrypt(nonce, json.dumps(data).encode(), case_id.bytes)
    return f"{VERSION}:{base64.b64encode(nonce + sealed).decode()}"


def _open(key: bytes, case_id: uuid.UUID, sealed: str) -> dict[str, str]:
    version, _, text = sealed.partition(":")
    if version != VERSION:
        raise ValueError(f"unknown sealing {version}")
    raw = base64.b64decode(text)
    data: dict[str, str] = json.loads(AESGCM(key).decrypt(raw[:12], raw[12:], case_id.bytes))
    return data


class PostgresPersonalDataVault:
    def __init__(self, pool: ConnectionPool) -> None:
        self.pool = pool
        with pool.connection() as conn:
            conn.execute(DDL)

    def seal(self, case_id: uuid.UUID, data: dict[str, str]) -> str:
        key = AESGCM.generate_key(bit_length=256)
        with self.pool.connection() as conn:
            conn.execute("INSERT INTO pd_keys VALUES (%s, %s)", (case_id, key))
        return _seal(key, case_id, data)

    def open(self, case_id: uuid.UUID, sealed: str) -> dict[str, str] | None:
        with self.pool.connection() as conn:
            row = conn.execute("SELECT key FROM pd_keys WHERE case_id = %s",
                               (case_id,)).fetchone()
        return _open(bytes(row[0]), case_id, sealed) if row else None

    def shred(self, case_id: uuid.UUID) -> None:
        with self.pool.connection() as conn:
            conn.execute("DELETE FROM pd_keys WHERE case_id = %s", (case_id,))


class InMemoryPersonalDataVault:
    """A fake for unit tests: the same encryption, keys in a dict."""

    def __init__(self) -> None:
        self.keys: dict[uuid.UUID, bytes] = {}

    def seal(self, case_id: uuid.UUID, data: dict[str, str]) -> str:
        self.keys[case_id] = AESGCM.generate_key(bit_length=256)
        return _seal(self.keys[case_id], case_id, data)

    def open(self, case_id: uuid.UUID, sealed: str) -> dict[str, str] | None:
        key = self.keys.get(case_id)
        return _open(key, case_id, sealed) if key else None

    def shred(self, case_id: uuid.UUID) -> None:
        self.keys.pop(case_id, None)
