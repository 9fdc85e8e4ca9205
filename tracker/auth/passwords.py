"""Argon2id password hashing and the password rules: 12 to 128 characters, and not one
of the passwords people use most (nor one of those with a few digits or symbols added).
No composition rules: a few unrelated words make a better password than any rule does.
"""

from __future__ import annotations

import string
from functools import lru_cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app

MIN_LENGTH = 12
MAX_LENGTH = 128


def init_app(app: Flask) -> None:
    hasher = PasswordHasher(
        time_cost=app.config["ARGON2_TIME_COST"],
        memory_cost=app.config["ARGON2_MEMORY_COST_KIB"],
        parallelism=app.config["ARGON2_PARALLELISM"],
    )
    app.extensions["password_hasher"] = hasher
    # Verified against when the account does not exist, so that a wrong e-mail address
    # takes as long to refuse as a wrong password.
    app.extensions["password_dummy_hash"] = hasher.hash("no account has this password")


def _hasher() -> PasswordHasher:
    return current_app.extensions["password_hasher"]


COMMON = (
    "This password is one that many people use, or one of those with a few numbers or "
    "symbols added. Choose one that is harder to guess: a few unrelated words work well"
)
_PADDING = string.digits + string.punctuation + string.whitespace
COMMON_PASSWORDS_FILE = "common-passwords.txt"


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    """The 30,000 most used passwords from leaked password lists (zxcvbn's list; the data
    file says where it comes from and carries its licence)."""
    text = resources.files("tracker.auth").joinpath(COMMON_PASSWORDS_FILE).read_text("utf-8")
    return frozenset(line for line in text.splitlines() if line and not line.startswith("#"))


def is_common(password: str) -> bool:
    """A common password, a common password padded with digits and symbols ("summer2026!"),
    or one or two characters repeated."""
    lowered = password.lower()
    common = _common_passwords()
    if lowered in common or len(set(lowered)) <= 2:
        return True
    core = lowered.strip(_PADDING)
    return len(core) >= 4 and core in common


def password_problem(password: str) -> str | None:
    """Say what is wrong with a new password, or None. No composition rules."""
    if len(password) < MIN_LENGTH:
        return f"Password must be {MIN_LENGTH} characters or more"
    if len(password) > MAX_LENGTH:
        return f"Password must be {MAX_LENGTH} characters or fewer"
    if is_common(password):
        return COMMON
    return None


def hash_password(password: str) -> str:
    return _hasher().hash(password)


# The stored "hash" of an account that has no password (it signs in through the trust's
# identity provider): no password matches it.
NO_PASSWORD = "!none"  # noqa: S105 # nosec B105 - a marker that no hash can equal


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when the password matches. With no hash (no such account, or an account with
    no password) the check is still made, against a dummy hash, so that it takes as
    long, and is always False."""
    if password_hash == NO_PASSWORD:
        password_hash = None
    try:
        matched = _hasher().verify(
            password_hash or current_app.extensions["password_dummy_hash"], password
        )
    except (VerificationError, InvalidHashError):
        return False
    return matched and password_hash is not None


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)
