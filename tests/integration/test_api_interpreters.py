"""The interpreter registry through the API: staff only, with languages, daily cap and weekly hours."""

import pytest
from sqlalchemy import func, select

from consultroom.audit.models import AuditEntry
from consultroom.extensions import db
from consultroom.interpreters.models import Interpreter, InterpreterHours
from tests.factories import make_company, make_interpreter, make_user
from tests.integration.test_api_support import api_call, assert_error, bearer

LIST = "/api/v1/interpreters"
ONE = "/api/v1/interpreters/{interpreter_id}"
KIM = {
    "name": "Kim  Minji",
    "email": "Minji@Interp.example.com",
    "phone": "010-1234-5678",
    "languages": ["en", "Japanese"],
    "max_sessions_per_day": 3,
    "locale": "ko",
    "weekly_hours": [
        {"weekday": 0, "start": "13:00", "end": "18:00"},
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 2, "start": "10:00", "end": "16:00"},
    ],
}


@pytest.fixture
def people():
    owner = make_user("sme", email="owner@example.kr")
    make_company(owner=owner)
    users = {
        "owner": owner,
        "staff": make_user("staff", email="staff@example.kr"),
        "admin": make_user("admin", email="admin@example.kr"),
    }
    headers = {role: bearer(user) for role, user in users.items()}
    headers["anon"] = {}
    return users, headers


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_create_interpreter_with_languages_cap_and_hours(client, people):
    _users, h = people

    response = api_call(client, "POST", LIST, headers=h["staff"], json=KIM)

    body = response.get_json()
    assert response.status_code == 201
    assert response.headers["Location"].endswith(f"/api/v1/interpreters/{body['id']}")
    assert (body["name"], body["email"], body["languages"]) == ("Kim Minji", "minji@interp.example.com", ["en", "ja"])
    assert (body["max_sessions_per_day"], body["locale"], body["active"], body["user_id"]) == (3, "ko", True, None)
    assert body["weekly_hours"] == [
        {"weekday": 0, "start": "09:00", "end": "12:00"},
        {"weekday": 0, "start": "13:00", "end": "18:00"},
        {"weekday": 2, "start": "10:00", "end": "16:00"},
    ]
    actions = db.session.scalars(
        select(AuditEntry.action).where(AuditEntry.action.like("interpreter.%")).order_by(AuditEntry.id)
    ).all()
    assert actions == ["interpreter.create", "interpreter.hours"]


@pytest.mark.parametrize(("role", "status"), [("anon", 401), ("owner", 404), ("admin", 201)])
def test_create_interpreter_by_role(client, people, role, status):
    _users, h = people

    response = api_call(client, "POST", LIST, headers=h[role], json=KIM)

    assert response.status_code == status
    assert _count(Interpreter) == (1 if status == 201 else 0)


def test_create_interpreter_invalid_names_fields(client, people):
    _users, h = people

    response = api_call(
        client,
        "POST",
        LIST,
        headers=h["staff"],
        json={"name": "", "email": "x", "languages": ["ko"], "max_sessions_per_day": 13, "locale": "fr"},
    )

    error = assert_error(response, 422, "invalid")
    assert set(error["fields"]) == {"name", "email", "languages", "max_sessions_per_day", "locale"}
    assert _count(Interpreter) == 0


def test_create_interpreter_bad_hours_writes_nothing(client, people):
    _users, h = people
    overlapping = [{"weekday": 1, "start": "09:00", "end": "12:00"}, {"weekday": 1, "start": "11:00", "end": "13:00"}]

    overlap = api_call(client, "POST", LIST, headers=h["staff"], json={**KIM, "weekly_hours": overlapping})
    shape = api_call(client, "POST", LIST, headers=h["staff"], json={**KIM, "weekly_hours": [{"weekday": 7}]})

    assert list(assert_error(overlap, 422, "invalid")["fields"]) == ["weekly_hours"]
    assert list(assert_error(shape, 422, "invalid")["fields"]) == ["weekly_hours"]
    assert (_count(Interpreter), _count(InterpreterHours)) == (0, 0)


def test_create_interpreter_duplicate_email_409(client, people):
    _users, h = people
    make_interpreter(email="minji@interp.example.com")

    response = api_call(client, "POST", LIST, headers=h["staff"], json=KIM)

    assert list(assert_error(response, 409, "conflict")["fields"]) == ["email"]


def test_list_interpreters_filters(client, people):
    _users, h = people
    make_interpreter(name="Ana Souza", languages=("pt",))
    make_interpreter(name="Boris Petrov", languages=("ru",), active=False)
    make_interpreter(name="Chen Wei", languages=("zh", "en"))

    default = api_call(client, "GET", LIST, headers=h["staff"]).get_json()
    by_language = api_call(client, "GET", LIST, headers=h["staff"], query={"language": "en"}).get_json()
    everyone = api_call(client, "GET", LIST, headers=h["staff"], query={"status": "all", "q": "petrov"}).get_json()
    bad = api_call(client, "GET", LIST, headers=h["staff"], query={"status": "x"})

    assert [i["name"] for i in default["items"]] == ["Ana Souza", "Chen Wei"]
    assert [i["name"] for i in by_language["items"]] == ["Chen Wei"]
    assert [i["name"] for i in everyone["items"]] == ["Boris Petrov"]
    assert list(assert_error(bad, 422, "invalid")["fields"]) == ["status"]


@pytest.mark.parametrize(("role", "status"), [("anon", 401), ("owner", 404), ("staff", 200), ("admin", 200)])
def test_list_and_get_interpreter_by_role(client, people, role, status):
    _users, h = people
    interpreter = make_interpreter(name="Ana Souza", hours=((4, "09:00", "17:00"),))

    listed = api_call(client, "GET", LIST, headers=h[role])
    one = api_call(client, "GET", ONE, headers=h[role], interpreter_id=interpreter.id)

    assert (listed.status_code, one.status_code) == (status, status)
    if status == 200:
        assert one.get_json()["weekly_hours"] == [{"weekday": 4, "start": "09:00", "end": "17:00"}]


def test_patch_interpreter_replaces_hours_and_changes_cap(client, people):
    _users, h = people
    interpreter = make_interpreter(name="Ana Souza", hours=((4, "09:00", "17:00"),), languages=("pt",))

    response = api_call(
        client,
        "PATCH",
        ONE,
        headers=h["staff"],
        json={
            "max_sessions_per_day": 6,
            "languages": "pt, es",
            "weekly_hours": [{"weekday": 1, "start": "10:00", "end": "15:00"}],
        },
        interpreter_id=interpreter.id,
    )

    body = response.get_json()
    assert response.status_code == 200
    assert (body["max_sessions_per_day"], body["languages"], body["name"]) == (6, ["pt", "es"], "Ana Souza")
    assert body["weekly_hours"] == [{"weekday": 1, "start": "10:00", "end": "15:00"}]


def test_patch_interpreter_clears_hours_and_deactivates(client, people):
    _users, h = people
    interpreter = make_interpreter(hours=((4, "09:00", "17:00"),))

    response = api_call(
        client,
        "PATCH",
        ONE,
        headers=h["staff"],
        json={"weekly_hours": [], "active": False},
        interpreter_id=interpreter.id,
    )

    assert response.status_code == 200
    assert (response.get_json()["weekly_hours"], response.get_json()["active"]) == ([], False)


def test_patch_interpreter_invalid_sme_and_missing(client, people):
    _users, h = people
    interpreter = make_interpreter(max_sessions_per_day=4)

    invalid = api_call(
        client, "PATCH", ONE, headers=h["staff"], json={"max_sessions_per_day": 0}, interpreter_id=interpreter.id
    )
    sme = api_call(client, "PATCH", ONE, headers=h["owner"], json={"phone": "1"}, interpreter_id=interpreter.id)
    missing = api_call(client, "GET", ONE, headers=h["staff"], interpreter_id=interpreter.id + 1)

    assert list(assert_error(invalid, 422, "invalid")["fields"]) == ["max_sessions_per_day"]
    assert (sme.status_code, missing.status_code) == (404, 404)
    assert db.session.get(Interpreter, interpreter.id).max_sessions_per_day == 4
