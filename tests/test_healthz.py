"""/healthz: 200 when the database answers, 503 when it does not, never a redirect to HTTPS.

The failing database is real: the test points the connection at a target that cannot answer
(a SQLite file in a directory that does not exist, or PostgreSQL on port 1).
"""

import copy

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db


def test_healthz_says_ok_when_the_database_answers(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok", "database": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_healthz_says_unavailable_without_details_when_the_database_does_not_answer(
    client, tmp_path
):
    unreachable = tmp_path / "no-such-directory" / "db.sqlite3"
    saved = copy.deepcopy(connection.settings_dict)
    connection.close()
    if connection.vendor == "sqlite":
        connection.settings_dict["NAME"] = str(unreachable)
    else:
        connection.settings_dict["PORT"] = "1"
    try:
        response = client.get("/healthz")
    finally:
        connection.close()
        connection.settings_dict.clear()
        connection.settings_dict.update(saved)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "error", "database": "unavailable"}
    body = response.content.decode()
    for detail in ("Traceback", "Error", "no-such-directory", saved["NAME"], "port"):
        assert detail not in body
    # The connection works again for the next test.
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_healthz_answers_over_plain_http_while_every_other_page_redirects_to_https(
    client, settings
):
    settings.SECURE_SSL_REDIRECT = True

    assert client.get("/").status_code == 301
    assert client.get("/")["Location"] == "https://testserver/"
    response = client.get("/healthz")

    assert settings.SECURE_REDIRECT_EXEMPT == [r"^healthz$"]
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}
