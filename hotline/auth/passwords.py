"""The password policy, after NIST SP 800-63B: long enough, not guessable, no composition rules.

A password must be 12 to 128 characters (any characters: spaces and æøå are welcome, so a
passphrase works), must not contain the username, must not be a common password from
common_passwords.txt (also not with digits or punctuation added before or after it, as in
"Sommer2024!"), and must use at least 5 different characters ("aaaaaaaaaaaa", "121212121212").
There are no rules about upper case, digits or symbols, and no expiry: NIST advises against both.
"""

import string
from functools import cache
from pathlib import Path

from hotline.kit.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 128
MIN_DISTINCT_CHARACTERS = 5
COMMON_PASSWORDS_FILE = Path(__file__).with_name("common_passwords.txt")
# What people put around a common word to get past a naive check: "123kodeord!", "Sommer2024".
_DECORATION = string.digits + string.punctuation + " "


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list of common passwords, lower-cased; '#' starts a comment line."""
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(
        line.strip().casefold() for line in lines if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, *, username: str = "") -> tuple[str, dict[str, int]] | None:
    """Why the password breaks the policy, as (message key, parameters), or None if it is fine."""
    if len(password) < MIN_LENGTH:
        return "users.password.too_short", {"min": MIN_LENGTH}
    if len(password) > MAX_LENGTH:
        return "users.password.too_long", {"max": MAX_LENGTH}
    folded = password.casefold()
    name = username.strip().casefold()
    if len(name) >= 3 and name in folded:
        return "users.password.contains_username", {}
    common = common_passwords()
    if folded in common or folded.strip(_DECORATION) in common:
        return "users.password.common", {}
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        return "users.password.repetitive", {"min": MIN_DISTINCT_CHARACTERS}
    return None


def check_password(password: str, *, username: str = "") -> None:
    """Raise InvalidInput (with the reason, in Danish) unless the password meets the policy."""
    problem = password_problem(password, username=username)
    if problem is not None:
        key, params = problem
        raise InvalidInput(key, **params)
