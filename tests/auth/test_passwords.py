"""The password policy: length, the username, the common-password list, repetition."""

import pytest

from hotline.auth.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    check_password,
    common_passwords,
    password_problem,
)
from hotline.i18n import t
from hotline.kit.errors import InvalidInput
from tests.conftest import TEST_PASSWORD


@pytest.mark.parametrize(
    "password",
    [
        TEST_PASSWORD,
        "x" * 6 + "yzæøå" + "!",  # exactly 12 characters, five of them different
        "Hest og kanelsnegl på Strøget",
        "skovsnegle-ved-gudenåen",
        "7 små grise løb til Skagen",
        "a" * (MAX_LENGTH - 4) + "bcde",
    ],
)
def test_long_uncommon_passwords_pass_without_composition_rules(password):
    assert password_problem(password, username="karen") is None
    check_password(password, username="karen")


@pytest.mark.parametrize(
    ("password", "key"),
    [
        ("", "users.password.too_short"),
        ("kort-kode", "users.password.too_short"),
        ("a1b2c3d4e5f", "users.password.too_short"),  # 11 characters
        ("x" * (MAX_LENGTH + 1), "users.password.too_long"),
        ("sommer2024!!", "users.password.common"),
        ("Kodeord12345", "users.password.common"),
        ("!!kodeord1234", "users.password.common"),
        ("Password123456", "users.password.common"),
        ("qwertyuiop123", "users.password.common"),
        ("123456789012", "users.password.common"),
        ("Velkommen2025!", "users.password.common"),
        ("hotline-12345", "users.password.common"),
        ("aaaaaaaaaaaaaaaa", "users.password.repetitive"),
        ("abababababab", "users.password.repetitive"),
        ("1212 1212 1212", "users.password.repetitive"),
        ("karen-har-en-kat", "users.password.contains_username"),
        ("MIN KAREN ER SØD", "users.password.contains_username"),
    ],
)
def test_weak_passwords_are_refused_with_the_reason(password, key):
    problem = password_problem(password, username="karen")
    assert problem is not None and problem[0] == key
    with pytest.raises(InvalidInput) as raised:
        check_password(password, username="karen")
    assert raised.value.key == key
    # Every reason has a Danish message, with its numbers filled in.
    message = t(raised.value.key, **raised.value.params)
    assert message != key and "{" not in message


def test_a_password_may_contain_a_very_short_username():
    assert password_problem("ab er et godt sted at bo", username="ab") is None


def test_the_messages_name_the_limits():
    _, params = password_problem("for kort", username="")
    assert str(MIN_LENGTH) in t("users.password.too_short", **params)


def test_the_common_list_has_the_danish_favourites_and_a_few_hundred_entries():
    common = common_passwords()
    assert {"sommer2024", "kodeord123", "password", "123456", "velkommen"} <= common
    assert 300 <= len(common) <= 2000
    assert all(word == word.strip().casefold() for word in common)
