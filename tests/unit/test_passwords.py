import argon2
from argon2 import PasswordHasher

from consultroom import create_app
from consultroom.accounts.passwords import hash_password, needs_rehash, verify_password


def test_password_hash_uses_rfc_9106_parameters_in_production(monkeypatch):
    # The development config hashes as production does (PASSWORD_HASH_PARAMS is only cheap in testing).
    app = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://")
    expected = PasswordHasher()  # argon2-cffi's defaults: RFC 9106's recommended parameters
    with app.app_context():
        stored = hash_password("correct horse battery")
        params = argon2.extract_parameters(stored)
        assert params.type is argon2.Type.ID
        assert (params.time_cost, params.memory_cost, params.parallelism) == (
            expected.time_cost,
            expected.memory_cost,
            expected.parallelism,
        )
        assert verify_password(stored, "correct horse battery") is True
        assert verify_password(stored, "correct horse batterY") is False
        assert needs_rehash(stored) is False


def test_password_hash_cheap_in_testing_is_rehashed_in_production(app):
    with app.app_context():
        cheap = hash_password("correct horse battery")
        assert argon2.extract_parameters(cheap).memory_cost == 8
    production = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://")
    with production.app_context():
        # A cheap hash still verifies, and is upgraded on the next login.
        assert verify_password(cheap, "correct horse battery") is True
        assert needs_rehash(cheap) is True


def test_verify_password_unknown_account_is_false():
    assert verify_password(None, "anything at all") is False
