"""Client PY: PyPI `chatkitty-server-side-sdk==1.0.0` (package `openapi_client`, `/v1` paths),
pointed at a Palaver server by its host only.

    python client_py.py http://127.0.0.1:8080 CLIENT_ID CLIENT_SECRET

PY has no token flow of its own: the token is fetched here from /oauth/token and handed to
`Configuration(access_token=...)`, as its users do.
"""

import base64
import datetime
import json
import math
import os
import random
import sys
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request

import openapi_client
from openapi_client import exceptions
from openapi_client.api.application_api import ApplicationApi
from openapi_client.api.users_api import UsersApi
from openapi_client.model.application_settings_properties import ApplicationSettingsProperties
from openapi_client.model.chat_user_presence_properties_patch import (
    ChatUserPresencePropertiesPatch,
)
from openapi_client.model.chat_user_properties_patch import ChatUserPropertiesPatch
from openapi_client.model.chat_user_resource import ChatUserResource
from openapi_client.model.create_external_file_properties import CreateExternalFileProperties
from openapi_client.model.create_person_chat_user_resource import CreatePersonChatUserResource
from openapi_client.model.links import Links
from openapi_client.model.paged_model_chat_user_resource import PagedModelChatUserResource
from openapi_client.model.secret_resource import SecretResource


def settings():
    args = sys.argv[1:]
    base = args[0] if len(args) > 0 else os.environ.get("PALAVER_COMPAT_BASE_URL", "")
    client_id = args[1] if len(args) > 1 else os.environ.get("PALAVER_COMPAT_CLIENT_ID")
    secret = args[2] if len(args) > 2 else os.environ.get("PALAVER_COMPAT_CLIENT_SECRET")
    if not base or not client_id or not secret:
        print("usage: python client_py.py BASE_URL CLIENT_ID CLIENT_SECRET", file=sys.stderr)
        print(
            "   or: PALAVER_COMPAT_BASE_URL, PALAVER_COMPAT_CLIENT_ID, PALAVER_COMPAT_CLIENT_SECRET",
            file=sys.stderr,
        )
        sys.exit(2)
    return base.rstrip("/"), client_id, secret


BASE, CLIENT_ID, CLIENT_SECRET = settings()
RUN = format(int(time.time() * 1000), "x") + format(random.randrange(4096), "x")


class Suite:
    def __init__(self, label):
        self.label = label
        self.passed = 0
        self.failed = 0

    def check(self, name):
        """Decorator: runs the function now as one named check; failures are counted."""

        def run(fn):
            try:
                fn()
                self.passed += 1
                print(f"ok   {name}", flush=True)
            except Exception as e:  # noqa: BLE001 - every failure is reported the same way
                self.failed += 1
                print(f"FAIL {name}", flush=True)
                detail = traceback.format_exc()
                if isinstance(e, exceptions.ApiException):
                    detail += f"HTTP {e.status}: {e.body}\n"
                for line in detail.rstrip().splitlines():
                    print(f"     {line}", flush=True)
            return fn

        return run

    def finish(self):
        print(f"{self.label}: {self.passed} passed, {self.failed} failed", flush=True)
        sys.exit(0 if self.failed == 0 and self.passed > 0 else 1)


suite = Suite("client PY")


def http(method, path, headers=None, body=None):
    """A plain HTTP request: (status, parsed JSON body or None)."""
    req = urllib.request.Request(BASE + path, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as res:
            status, raw = res.status, res.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, None


def fetch_token(client_id, secret):
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return http(
        "POST",
        "/oauth/token",
        headers={
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded",
        },
        body=b"grant_type=client_credentials",
    )


def expect_error(status, fn):
    """Calls fn, which must raise the client's ApiException with `status`; returns its body."""
    try:
        fn()
    except exceptions.ApiException as e:
        assert e.status == status, f"expected {status}, got {e.status}: {e.body}"
        return json.loads(e.body) if e.body else None
    raise AssertionError(f"expected HTTP {status}, the call succeeded")


def assert_api_error(body):
    assert isinstance(body, dict), body
    for key in ("error", "message", "timestamp"):
        assert isinstance(body.get(key), str), f"{key} in {body}"


def assert_user(u, what):
    assert isinstance(u, ChatUserResource), f"{what}: {type(u)}"
    assert isinstance(u.id, int), what
    assert u.type in ("PERSON", "BOT"), what
    assert isinstance(u.display_name, str), what
    assert u.display_picture_url, what
    assert isinstance(u.is_guest, bool), what
    assert isinstance(u.presence.online, bool), what
    assert isinstance(u.properties, dict), what
    # `_links` deserializes into the Links map model, with `self` as a Link.
    assert isinstance(u.links, Links), f"{what}: links is {type(u.links)}"
    assert u.links["self"]["href"].endswith(f"/v1/users/{u.id}"), u.links["self"]


state = {}


@suite.check("token endpoint (urlencoded + Basic) issues a bearer token")
def _():
    status, body = fetch_token(CLIENT_ID, CLIENT_SECRET)
    assert status == 200, (status, body)
    assert isinstance(body["access_token"], str) and body["access_token"]
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] > 0
    state["token"] = body["access_token"]


@suite.check("token endpoint with form credentials and a wrong secret")
def _():
    form = urllib.parse.urlencode(
        {"grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    ).encode()
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    status, body = http("POST", "/oauth/token", headers, form)
    assert status == 200 and body["access_token"], (status, body)
    status, body = fetch_token(CLIENT_ID, CLIENT_SECRET + "-wrong")
    assert status == 401, (status, body)
    assert isinstance(body["error"], str) and isinstance(body["error_description"], str), body


configuration = openapi_client.Configuration(host=BASE, access_token=state.get("token"))
client = openapi_client.ApiClient(configuration)
application = ApplicationApi(client)
users = UsersApi(client)
names = [f"p{n}-{RUN}" for n in ("alice", "bob", "carol", "dave", "erin", "frank")]
created = {}


@suite.check("without a token the client raises UnauthorizedException")
def _():
    anonymous = UsersApi(openapi_client.ApiClient(openapi_client.Configuration(host=BASE)))
    try:
        anonymous.retrieve_users()
    except exceptions.UnauthorizedException as e:
        assert e.status == 401
        return
    raise AssertionError("expected 401")


@suite.check("retrieve_authenticated_application deserializes")
def _():
    app = application.retrieve_authenticated_application()
    assert isinstance(app.id, int)
    assert app.key
    assert isinstance(app.created_time, datetime.datetime)
    assert isinstance(app.properties, dict)


@suite.check("application settings: retrieve and update (guestUsers only)")
def _():
    current = application.retrieve_authenticated_application_settings()
    assert current.guest_users in ("ENABLED", "DISABLED")
    for wanted in ("DISABLED", "ENABLED"):
        updated = application.update_authenticated_application_settings(
            ApplicationSettingsProperties(guest_users=wanted)
        )
        assert updated.guest_users == wanted
        assert application.retrieve_authenticated_application_settings().guest_users == wanted


@suite.check("create_user creates 6 people")
def _():
    for i, name in enumerate(names):
        u = users.create_user(
            CreatePersonChatUserResource(
                name=name, display_name=f"P {i}", is_guest=False, properties={"i": i}
            )
        )
        assert_user(u, name)
        assert u.name == name and u.display_name == f"P {i}"
        assert u.is_guest is False and u.type == "PERSON"
        assert u.presence.online is False
        assert u.properties == {"i": i}
        created[name] = u


def alice():
    return created[names[0]]


@suite.check("create_user with a taken name is a 4xx ApiError")
def _():
    try:
        users.create_user(
            CreatePersonChatUserResource(name=names[0], display_name="again", is_guest=False)
        )
    except exceptions.ApiException as e:
        assert 400 <= e.status < 500, e.status
        assert_api_error(json.loads(e.body))
        return
    raise AssertionError("duplicate accepted")


@suite.check("HEAD /v1/users?name= is 200 / 404")
def _():
    # Checked with a plain HTTP request, not users.check_user_exists: that client method tries
    # to deserialize the empty HEAD body as an `object` and raises ApiTypeError even on a 200
    # (a bug in the client, not something a server can answer differently).
    auth = {"Authorization": f"Bearer {state['token']}", "Accept": "application/json"}
    status, _ = http("HEAD", "/v1/users?" + urllib.parse.urlencode({"name": names[0]}), auth)
    assert status == 200, status
    status, _ = http("HEAD", "/v1/users?" + urllib.parse.urlencode({"name": f"no-{RUN}"}), auth)
    assert status == 404, status
    # The 404 path has no body to deserialize, so the client method itself works there.
    expect_error(404, lambda: users.check_user_exists(f"no-{RUN}"))


@suite.check("retrieve_users pages deserialize and cover every user once")
def _():
    first = users.retrieve_users(page=0, size=4)
    assert isinstance(first, PagedModelChatUserResource)
    assert isinstance(first.links, Links)
    total = first.page.total_elements
    assert total >= len(created), total
    assert first.page.total_pages == math.ceil(total / 4)
    assert first.page.size == 4 and first.page.number == 0
    seen = set()
    for p in range(first.page.total_pages):
        page = first if p == 0 else users.retrieve_users(page=p, size=4)
        for u in page.embedded.users:
            assert_user(u, f"page {p}")
            assert u.id not in seen, u.id
            seen.add(u.id)
        last = p == first.page.total_pages - 1
        assert ("next" in page.links) != last, (p, page.links)
    assert len(seen) == total
    assert {u.id for u in created.values()} <= seen


@suite.check("retrieve_users sorts by name and filters by name")
def _():
    def mine(page):
        return [u.name for u in page.embedded.users if u.name in names]

    assert mine(users.retrieve_users(size=100, sort=["name,asc"])) == sorted(names)
    assert mine(users.retrieve_users(size=100, sort=["name,desc"])) == sorted(names, reverse=True)
    one = users.retrieve_users(name=names[3])
    assert [u.name for u in one.embedded.users] == [names[3]]
    assert one.page.total_elements == 1


@suite.check("retrieve_user round-trips; unknown id raises NotFoundException")
def _():
    u = users.retrieve_user(alice().id)
    assert_user(u, "alice")
    assert u.to_dict() == alice().to_dict()
    try:
        users.retrieve_user(999999999)
    except exceptions.NotFoundException as e:
        assert_api_error(json.loads(e.body))
        return
    raise AssertionError("expected 404")


@suite.check("update_user applies a merge patch")
def _():
    u = users.update_user(
        alice().id,
        chat_user_properties_patch=ChatUserPropertiesPatch(
            display_name="Alice P",
            presence=ChatUserPresencePropertiesPatch(status="AVAILABLE"),
            properties={"team": "p"},
        ),
    )
    assert_user(u, "patched")
    assert u.display_name == "Alice P"
    assert u.presence.status == "AVAILABLE"
    assert u.properties == {"i": 0, "team": "p"}, u.properties
    assert users.retrieve_user(alice().id).display_name == "Alice P"


@suite.check("update_user_display_picture (JSON body)")
def _():
    url = f"https://example.com/{RUN}/p.png"
    u = users.update_user_display_picture(
        alice().id,
        CreateExternalFileProperties(url=url, name="p.png", content_type="image/png", size=7),
    )
    assert u.display_picture_url == url


@suite.check("user secrets: set, get, remove, then NotFoundException")
def _():
    uid = alice().id
    u = users.set_user_secret(uid, "py secret", SecretResource(secret={"k": [1, 2]}))
    assert_user(u, "after set_user_secret")
    got = users.retrieve_user_secret(uid, "py secret")
    assert isinstance(got, SecretResource)
    assert got.secret == {"k": [1, 2]}, got.secret
    assert users.remove_user_secret(uid, "py secret").id == uid
    assert_api_error(expect_error(404, lambda: users.retrieve_user_secret(uid, "py secret")))


@suite.check("delete_user returns the application; the user is gone")
def _():
    victim = created[names[5]]
    app = users.delete_user(victim.id)
    assert app.key and isinstance(app.created_time, datetime.datetime)
    expect_error(404, lambda: users.retrieve_user(victim.id))


suite.finish()
