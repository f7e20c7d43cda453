"""Invitation tokens: random, sent only in the email, stored only as a SHA-256 hash."""

import hashlib
import secrets


def token_new() -> str:
    return secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    # A plain hash suffices: the token carries 256 random bits, so it cannot be guessed
    # from its hash the way a password could.
    return hashlib.sha256(token.encode()).hexdigest()
