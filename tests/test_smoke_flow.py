import pytest
from django.contrib.auth.models import User

pytestmark = pytest.mark.django_db


def test_full_flow(client, singleconnect_simulator):
    User.objects.create_user("alice", password="pw")
    response = client.post("/accounts/login/", {"username": "alice", "password": "pw"})
    assert response.status_code == 302
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/2fa/verify/?next=")
    response = client.get(response["Location"])
    assert response.status_code == 200, response.content
    code = singleconnect_simulator.current_code("alice")
    assert code
    response = client.post("/2fa/verify/", {"token": code, "next": "/"})
    assert response.status_code == 302, response.content
    assert response["Location"] == "/"
    assert client.get("/").content == b"protected page"
