"""Who reads the audit log, decided once (issue 17, item 8): staff and admins, at /staff/audit."""

from consultroom import ROOT
from consultroom.accounts.policies import can_read_audit
from tests.factories import make_user


def test_audit_readers_are_staff_and_admins_only():
    assert [can_read_audit(make_user(role)) for role in ("sme", "staff", "admin")] == [False, True, True]


def test_audit_old_admin_url_redirects_keeping_the_filter(client, login_as):
    login_as("staff")
    response = client.get("/admin/audit?type=bookings&page=2")
    assert (response.status_code, response.headers["Location"]) == (308, "/staff/audit?type=bookings&page=2")
    assert client.get(response.headers["Location"]).status_code == 200


def test_audit_readme_names_the_same_url_and_readers():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "`/staff/audit`, read by staff and admins" in readme
