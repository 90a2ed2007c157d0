"""An existing Open311 GeoReport v2 client submits and tracks tips with its API key."""

import pytest

from tests.factories import make_token, make_user


@pytest.fixture
def keys(db):  # type: ignore[no-untyped-def]
    result = {
        "client": make_token(db, make_user(db, "city-app", "integration")),
        "other": make_token(db, make_user(db, "other-app", "integration")),
        "dispatcher": make_token(db, make_user(db, "disp", "dispatcher")),
    }
    db.commit()
    return result


def test_services_are_the_taxonomy_subtypes(server):  # type: ignore[no-untyped-def]
    client = server.client()
    services = client.get("/open311/v2/services.json").json()
    codes = {s["service_code"] for s in services}
    assert {"tech.ditiaogang", "env.emission", "energy.energy_overuse", "other.other"} <= codes
    assert len(codes) == 14
    assert client.get("/open311/v2/services/tech.ditiaogang.json").json()["attributes"] == []
    missing = client.get("/open311/v2/services/nope.json")
    assert missing.status_code == 404 and missing.json()[0]["error"] == "unknown_service"


def test_a_client_submits_and_reads_back_only_its_own_requests(server, keys):  # type: ignore[no-untyped-def]
    client = server.client()
    created = client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": keys["client"],
            "service_code": "tech.ditiaogang",
            "description": "龙川县某厂夜里开中频炉，火光冲天",
            "lat": "24.1",
            "long": "115.26",
            "phone": "13700000000",
        },
    )
    assert created.status_code == 201, created.text
    ticket = created.json()[0]["service_request_id"]
    one = client.get(f"/open311/v2/requests/{ticket}.json", params={"api_key": keys["client"]})
    assert one.status_code == 200
    assert one.json()[0]["status"] == "open" and one.json()[0]["lat"] == 24.1
    assert "13700000000" not in one.text
    listed = client.get(
        "/open311/v2/requests.json", params={"api_key": keys["client"], "status": "open"}
    ).json()
    assert [r["service_request_id"] for r in listed] == [ticket]
    assert client.get("/open311/v2/requests.json", params={"api_key": keys["other"]}).json() == []
    stranger = client.get(f"/open311/v2/requests/{ticket}.json", params={"api_key": keys["other"]})
    assert stranger.status_code == 404


@pytest.mark.parametrize(
    ("key", "fields", "status", "code"),
    [
        (None, {"description": "龙川县黑烟很大很大"}, 401, "api_key_required"),
        (
            "dispatcher",
            {"description": "龙川县黑烟很大很大", "lat": "24", "long": "115"},
            403,
            "not_an_integration",
        ),
        ("client", {"description": "龙川县黑烟很大很大"}, 422, "location_required"),
        (
            "client",
            {"description": "龙川县黑烟很大很大", "service_code": "x.y", "address_string": "龙川"},
            422,
            "unknown_service",
        ),
        ("client", {"description": "", "address_string": "龙川"}, 422, "text_required"),
    ],
    ids=["no-key", "staff-key", "no-location", "unknown-service", "no-description"],
)
def test_bad_requests_get_open311_errors(server, keys, key, fields, status, code):  # type: ignore[no-untyped-def]
    data = dict(fields)
    if key:
        data["api_key"] = keys[key]
    response = server.client().post("/open311/v2/requests.json", data=data)
    assert response.status_code == status
    assert response.json()[0]["error"] == code and response.json()[0]["code"] == status
