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
from openapi_client.api.channels_api import ChannelsApi
from openapi_client.api.imports_api import ImportsApi
from openapi_client.api.function_versions_api import FunctionVersionsApi
from openapi_client.api.functions_api import FunctionsApi
from openapi_client.api.jobs_api import JobsApi
from openapi_client.api.messages_api import MessagesApi
from openapi_client.api.runtime_api import RuntimeApi
from openapi_client.api.threads_api import ThreadsApi
from openapi_client.api.users_api import UsersApi
from openapi_client.model.application_job_resource import ApplicationJobResource
from openapi_client.model.application_settings_properties import ApplicationSettingsProperties
from openapi_client.model.channel_membership_import import ChannelMembershipImport
from openapi_client.model.channel_properties_patch import ChannelPropertiesPatch
from openapi_client.model.chat_function_resource import ChatFunctionResource
from openapi_client.model.chat_function_version_resource import ChatFunctionVersionResource
from openapi_client.model.chat_runtime_dependency_properties import ChatRuntimeDependencyProperties
from openapi_client.model.chat_runtime_environment_variables_properties import (
    ChatRuntimeEnvironmentVariablesProperties,
)
from openapi_client.model.chat_runtime_resource import ChatRuntimeResource
from openapi_client.model.chat_runtime_script_properties import ChatRuntimeScriptProperties
from openapi_client.model.create_chat_function_resource import CreateChatFunctionResource
from openapi_client.model.create_chat_function_version_resource import (
    CreateChatFunctionVersionResource,
)
from openapi_client.model.create_channel_generic_event_resource import (
    CreateChannelGenericEventResource,
)
from openapi_client.model.create_channel_invite_resource import CreateChannelInviteResource
from openapi_client.model.create_channel_request import CreateChannelRequest
from openapi_client.model.chat_user_presence_properties_patch import (
    ChatUserPresencePropertiesPatch,
)
from openapi_client.model.chat_user_import import ChatUserImport
from openapi_client.model.chat_user_properties_patch import ChatUserPropertiesPatch
from openapi_client.model.chat_user_resource import ChatUserResource
from openapi_client.model.create_external_file_properties import CreateExternalFileProperties
from openapi_client.model.create_person_chat_user_resource import CreatePersonChatUserResource
from openapi_client.model.cursor_paged_model_message_resource import (
    CursorPagedModelMessageResource,
)
from openapi_client.model.direct_channel_resource import DirectChannelResource
from openapi_client.model.file_chat_user_message_resource import FileChatUserMessageResource
from openapi_client.model.links import Links
from openapi_client.model.notification_resource import NotificationResource
from openapi_client.model.paged_model_application_job_resource import (
    PagedModelApplicationJobResource,
)
from openapi_client.model.paged_model_channel_resource import PagedModelChannelResource
from openapi_client.model.paged_model_chat_function_resource import PagedModelChatFunctionResource
from openapi_client.model.paged_model_chat_function_version_resource import (
    PagedModelChatFunctionVersionResource,
)
from openapi_client.model.paged_model_chat_user_resource import PagedModelChatUserResource
from openapi_client.model.paged_model_message_read_receipt_resource import (
    PagedModelMessageReadReceiptResource,
)
from openapi_client.model.private_channel_resource import PrivateChannelResource
from openapi_client.model.public_channel_import import PublicChannelImport
from openapi_client.model.public_channel_resource import PublicChannelResource
from openapi_client.model.reply_thread_resource import ReplyThreadResource
from openapi_client.model.secret_resource import SecretResource
from openapi_client.model.send_channel_message_request import SendChannelMessageRequest
from openapi_client.model.text_chat_user_message_resource import TextChatUserMessageResource
from openapi_client.model.text_chat_user_message_import import TextChatUserMessageImport
from openapi_client.model.text_system_message_import import TextSystemMessageImport
from openapi_client.model.text_system_message_resource import TextSystemMessageResource


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


# ---- Channels, messages, threads, receipts and notifications (`/v1`) ----
#
# PY's request models for a user reference (`AddChannelMemberRequest`, a oneOf of
# `ChatUserIdReference` and `ChatUserUsernameReference`) cannot be built: both alternatives
# accept any object, so the client raises "Multiple oneOf schemas matched" on every input, and
# its input check of `CreateChannelRequest` recurses forever through the discriminator. Those
# calls are made the way a PY user has to: the model built with `_check_type=False` and user
# references as plain dicts, the call with the input check off (which in turn wants the host as
# a host-table index, hence `LocalConfiguration`). Responses are still fully deserialized.


class LocalConfiguration(openapi_client.Configuration):
    """The generated host table names only the hosted service; this one names BASE."""

    def get_host_settings(self):
        return [{"url": BASE, "description": "Palaver under test"}]


UNCHECKED = {
    "_check_input_type": False,
    "_content_type": "application/json",
    "_host_index": 0,
    "_request_auths": [],
    "_request_timeout": 30,
}

client = openapi_client.ApiClient(LocalConfiguration(host=BASE, access_token=state.get("token")))
channels = ChannelsApi(client)
messages = MessagesApi(client)
threads = ThreadsApi(client)
users = UsersApi(client)
alice_name, bob_name, carol_name = names[0], names[1], names[2]
ch = {}
sent = []


def ref(**kw):
    return dict(kw)


def traverse(fetch, size, name="messages"):
    """Follows `links["next"]["href"]` of cursor pages from `fetch(size=, start=, next=,
    relation=)`; returns the pages' items."""
    pages = []
    page = fetch(size=size)
    while True:
        assert page.page.size == size, page.page
        items = list(getattr(page.embedded, name, [])) if "embedded" in page else []
        assert len(items) <= size, len(items)
        pages.append(items)
        if "next" not in page.links:
            return pages
        href = page.links["next"]["href"]
        assert href.startswith(BASE + "/v1/"), href
        q = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(href).query))
        assert q["relation"] == "NEXT" and int(q["size"]) == size, href
        assert len(pages) < 200
        cursor = {k: int(q[k]) for k in ("start", "next") if k in q}
        page = fetch(size=size, relation=q["relation"], **cursor)


def ids(items):
    return [m.id for m in items]


def assert_message(m, what):
    assert m.type in ("TEXT", "FILE", "SYSTEM_TEXT", "SYSTEM_FILE"), what
    assert isinstance(m.id, int), what
    assert isinstance(m.channel_id, int), what
    assert isinstance(m.created_time, datetime.datetime), what
    assert isinstance(m.nested_level, int), what
    assert isinstance(m.links, Links), what


@suite.check("create_channel PUBLIC, DIRECT (found again) and PRIVATE deserialize by type")
def _():
    g = channels.create_channel(
        CreateChannelRequest(
            type="PUBLIC",
            name=f"pgeneral-{RUN}",
            display_name="P General",
            creator=ref(username=alice_name),
            members=[ref(username=bob_name)],
            properties={"team": f"p-{RUN}"},
            _check_type=False,
        ),
        **UNCHECKED,
    )
    assert isinstance(g, PublicChannelResource), type(g)
    assert g.name == f"pgeneral-{RUN}" and g.display_name == "P General"
    assert g.creator.name == alice_name
    assert isinstance(g.created_time, datetime.datetime)
    assert g.properties == {"team": f"p-{RUN}"}
    assert g.links["self"]["href"] == f"{BASE}/v1/channels/{g.id}"
    ch["general"] = g
    body = dict(type="DIRECT", members=[ref(username=alice_name), ref(id=created[bob_name].id)])
    d = channels.create_channel(CreateChannelRequest(**body, _check_type=False), **UNCHECKED)
    assert isinstance(d, DirectChannelResource), type(d)
    assert sorted(m.name for m in d.members) == sorted([alice_name, bob_name])
    again = channels.create_channel(CreateChannelRequest(**body, _check_type=False), **UNCHECKED)
    assert again.id == d.id
    ch["direct"] = d
    p = channels.create_channel(
        CreateChannelRequest(
            type="PRIVATE", name=f"ppriv-{RUN}", creator=ref(username=alice_name), _check_type=False
        ),
        **UNCHECKED,
    )
    assert isinstance(p, PrivateChannelResource), type(p)
    ch["priv"] = p


@suite.check("retrieve_channels pages with page.total_elements and filters by type")
def _():
    first = channels.retrieve_channels(page=0, size=2)
    assert isinstance(first, PagedModelChannelResource)
    total = first.page.total_elements
    assert total >= 3 and first.page.total_pages == math.ceil(total / 2), first.page
    seen = set()
    for p in range(first.page.total_pages):
        page = first if p == 0 else channels.retrieve_channels(page=p, size=2)
        for c in page.embedded.channels:
            assert c.id not in seen, c.id
            seen.add(c.id)
        assert ("next" in page.links) != (p == first.page.total_pages - 1), p
    assert len(seen) == total
    assert {c.id for c in ch.values()} <= seen
    public = channels.retrieve_channels(size=100, type="PUBLIC").embedded.channels
    assert public and all(c.type == "PUBLIC" for c in public)
    by_props = channels.retrieve_channels(properties=json.dumps({"team": f"p-{RUN}"}))
    assert [c.id for c in by_props.embedded.channels] == [ch["general"].id]
    mine = users.retrieve_user_channels(created[alice_name].id, size=100).embedded.channels
    assert {c.id for c in ch.values()} <= {c.id for c in mine}


@suite.check("retrieve_channel and update_channel (ChannelPropertiesPatch); unknown is 404")
def _():
    g = channels.update_channel(
        ch["general"].id,
        channel_properties_patch=ChannelPropertiesPatch(
            display_name="P General 2", properties={"topic": "p"}
        ),
    )
    assert isinstance(g, PublicChannelResource)
    assert g.display_name == "P General 2"
    assert g.properties == {"team": f"p-{RUN}", "topic": "p"}, g.properties
    assert channels.retrieve_channel(g.id).to_dict() == g.to_dict()
    assert_api_error(expect_error(404, lambda: channels.retrieve_channel(999999999)))


@suite.check("members, memberships, a moderator and an invite")
def _():
    cid = ch["general"].id
    carol = created[carol_name]
    added = channels.add_channel_member(cid, ref(username=carol_name), **UNCHECKED)
    assert added.id == cid
    members = channels.retrieve_channel_members(cid)
    assert carol.id in [u.id for u in members.embedded.users]
    for u in members.embedded.users:
        assert_user(u, "member")
    memberships = channels.retrieve_channel_memberships(cid)
    assert memberships.page.total_elements == members.page.total_elements
    for m in memberships.embedded.memberships:
        assert isinstance(m.created_time, datetime.datetime)
    channels.remove_channel_member(cid, carol.id)
    after = channels.retrieve_channel_members(cid).embedded.users
    assert carol.id not in [u.id for u in after]
    mod = channels.add_channel_moderator(cid, ref(id=created[bob_name].id), **UNCHECKED)
    assert_user(mod, "moderator")
    invite = channels.send_channel_invite(
        ch["priv"].id,
        CreateChannelInviteResource(user=ref(username=carol_name), _check_type=False),
        **UNCHECKED,
    )
    assert isinstance(invite.created_time, datetime.datetime)
    invites = channels.retrieve_channel_invites(ch["priv"].id)
    assert invites.page.total_elements == 1


@suite.check("send_channel_message: TEXT, SYSTEM_TEXT and FILE deserialize by type")
def _():
    cid = ch["general"].id
    t = channels.send_channel_message(
        cid,
        SendChannelMessageRequest(
            type="TEXT", body=f"hey @{bob_name}", user=ref(username=alice_name), _check_type=False
        ),
        **UNCHECKED,
    )
    assert isinstance(t, TextChatUserMessageResource), type(t)
    assert_message(t, "text")
    assert t.body == f"hey @{bob_name}" and t.channel_id == cid and t.nested_level == 0
    assert t.user.name == alice_name
    assert t.mentions[0]["tag"] == bob_name
    sent.append(t)
    s = channels.send_channel_message(
        cid, SendChannelMessageRequest(type="TEXT", body="p system", _check_type=False), **UNCHECKED
    )
    assert isinstance(s, TextSystemMessageResource), type(s)
    sent.append(s)
    f = channels.send_channel_message(
        cid,
        SendChannelMessageRequest(
            type="FILE",
            file=CreateExternalFileProperties(
                url=f"https://example.com/{RUN}/p.bin",
                name="p.bin",
                content_type="application/octet-stream",
                size=9,
            ),
            user=ref(username=bob_name),
            _check_type=False,
        ),
        **UNCHECKED,
    )
    assert isinstance(f, FileChatUserMessageResource), type(f)
    assert f.file.type == "EXTERNAL" and f.file.content_type == "application/octet-stream"
    assert f.file.size == 9
    sent.append(f)


@suite.check("retrieve_channel_messages: 10 messages in pages of 4 by links['next'], newest first")
def _():
    cid = ch["general"].id
    for i in range(len(sent), 10):
        who = alice_name if i % 2 else bob_name
        sent.append(
            channels.send_channel_message(
                cid,
                SendChannelMessageRequest(
                    type="TEXT", body=f"p {i}", user=ref(username=who), _check_type=False
                ),
                **UNCHECKED,
            )
        )
    pages = traverse(lambda **kw: channels.retrieve_channel_messages(cid, **kw), 4)
    assert [len(p) for p in pages] == [4, 4, 2], [len(p) for p in pages]
    got = [m for p in pages for m in p]
    for m in got:
        assert_message(m, "listed")
    assert ids(got) == list(reversed(ids(sent)))
    first = channels.retrieve_channel_messages(cid, size=4)
    assert isinstance(first, CursorPagedModelMessageResource)


@suite.check("retrieve_message round-trips; retrieve_messages filters by username and query")
def _():
    m = sent[0]
    assert messages.retrieve_message(m.id).to_dict() == m.to_dict()
    bobs = [x for p in traverse(lambda **kw: messages.retrieve_messages(username=bob_name, **kw), 5)
            for x in p]
    assert bobs and all(x.user.name == bob_name for x in bobs)
    found = [x for p in traverse(lambda **kw: messages.retrieve_messages(query="p system", **kw), 5)
             for x in p]
    assert ids(found) == [sent[1].id], ids(found)
    assert_api_error(expect_error(404, lambda: messages.retrieve_message(999999999)))


@suite.check("threads: retrieve_thread, send_thread_message, retrieve_thread_messages")
def _():
    parent = sent[0]
    tid = int(parent.links["reply_thread"]["href"].rsplit("/", 1)[1])
    t = threads.retrieve_thread(tid)
    assert isinstance(t, ReplyThreadResource)
    assert t.type == "MESSAGE" and isinstance(t.created_time, datetime.datetime)
    reply = threads.send_thread_message(
        tid,
        SendChannelMessageRequest(
            type="TEXT", body="p reply", user=ref(username=bob_name), _check_type=False
        ),
        **UNCHECKED,
    )
    assert_message(reply, "reply")
    assert reply.nested_level == 1
    listed = [x for p in traverse(lambda **kw: threads.retrieve_thread_messages(tid, **kw), 5)
              for x in p]
    assert ids(listed) == [reply.id]
    assert messages.retrieve_message(parent.id).replies_count == 1


@suite.check("send_channel_event echoes")
def _():
    e = channels.send_channel_event(
        ch["general"].id, CreateChannelGenericEventResource(type="p-event", properties={"n": 1})
    )
    assert e.type == "p-event" and e.properties == {"n": 1}


@suite.check("retrieve_user_messages(unread) and retrieve_message_read_receipts")
def _():
    bob = created[bob_name]
    unread = [x for p in traverse(
        lambda **kw: users.retrieve_user_messages(bob.id, unread=True, **kw), 5) for x in p]
    assert unread
    for m in unread:
        assert_message(m, "unread")
    receipts = messages.retrieve_message_read_receipts(sent[0].id, page=0, size=5)
    assert isinstance(receipts, PagedModelMessageReadReceiptResource)
    assert receipts.page.size == 5 and isinstance(receipts.page.total_elements, int)


@suite.check("retrieve_user_notifications deserializes notification data by type")
def _():
    bob = created[bob_name]
    everyone = channels.send_channel_message(
        ch["general"].id,
        SendChannelMessageRequest(
            type="TEXT", body="@channel p all", user=ref(username=alice_name), _check_type=False
        ),
        **UNCHECKED,
    )
    sent.append(everyone)
    wanted = {"USER:MENTIONED:USER", "USER:MENTIONED:CHANNEL"}
    found = []
    for _attempt in range(50):
        found = [n for p in traverse(
            lambda **kw: users.retrieve_user_notifications(bob.id, **kw), 5, "notifications")
            for n in p]
        if wanted <= {n.data.type for n in found}:
            break
        time.sleep(0.2)
    channel_mention = next(n for n in found if n.data.type == "USER:MENTIONED:CHANNEL")
    assert channel_mention.data.mentioned_channel.id == ch["general"].id
    assert channel_mention.data.message.id == everyone.id
    mention = next(n for n in found if n.data.type == "USER:MENTIONED:USER")
    assert isinstance(mention, NotificationResource)
    assert isinstance(mention.created_time, datetime.datetime)
    assert mention.data.mentioned_user.name == bob_name
    assert mention.data.message.user.name == alice_name
    assert mention.data.channel_id == ch["general"].id
    assert isinstance(mention.muted, bool)


# ---- Imports and jobs (§6 steps 32-33, `/v1`) ----
#
# PY types an import's `file` as a list of models (`[ChatUserImport]` and so on) and sends it as
# a plain form field in the collection format `csv`: `str()` of each model's dict, joined by
# commas. Those are Python reprs, not JSON, and no server can read them; the first check shows
# it. The others send the file the way a PY user can: the models serialized by the client
# (`ApiClient.sanitize_for_serialization`, which writes PY's camelCase names) and dumped to one
# JSON text, passed as a one-element list with the call's input check off.

IMPORT_CALL = dict(UNCHECKED, _content_type="multipart/form-data")
JOB_WAIT_S = 20
sent_requests = []


def recorded(request):
    """`ApiClient.request` that also notes what each call sends."""

    def spy(method, url, **kw):
        sent_requests.append((method, url, kw.get("query_params"), kw.get("post_params")))
        return request(method, url, **kw)

    return spy


import_client = openapi_client.ApiClient(LocalConfiguration(host=BASE, access_token=state.get("token")))
import_client.request = recorded(import_client.request)
imports = ImportsApi(import_client)
jobs = JobsApi(import_client)
imp_name = f"pimp1-{RUN}"
imp = {}
import_jobs = {}


def json_file(models):
    """PY's `file` argument: one JSON text of `models` as the client serializes them."""
    return [json.dumps([import_client.sanitize_for_serialization(m) for m in models])]


def describe_job(j):
    """The job and, when the server links them, the elements it could not handle."""
    text = str(j.to_dict())
    if "errors" in j.links:
        href = j.links["errors"]["href"]
        auth = {"Authorization": f"Bearer {state['token']}", "Accept": "application/json"}
        status, body = http("GET", href[len(BASE):], auth)
        text += f" errors ({status}): {body}"
    return text


def assert_job(j, what, kind):
    assert isinstance(j, ApplicationJobResource), f"{what}: {type(j)}"
    assert j.type == kind, f"{what}: type {j.type}"
    assert isinstance(j.id, int), what
    assert j.state in ("PENDING", "RUNNING", "FINISHED", "FAILED"), f"{what}: state {j.state}"
    assert isinstance(j.created_time, datetime.datetime), what
    assert isinstance(j.links, Links), f"{what}: links is {type(j.links)}"
    assert j.links["self"]["href"] == f"{BASE}/v1/jobs/{j.id}", j.links["self"]


def started(j, kind, what):
    """A job just started: 202, not ended."""
    assert import_client.last_response.status == 202, import_client.last_response.status
    assert_job(j, what, kind)
    assert j.state in ("PENDING", "RUNNING"), f"{what}: {j.state} when started"
    assert "ended_time" not in j, f"{what}: ended when started"


def finished(job, what):
    """Polls `retrieve_job` until `job` has ended; answers it, which must be FINISHED."""
    deadline = time.monotonic() + JOB_WAIT_S
    j = job
    while j.state not in ("FINISHED", "FAILED"):
        assert time.monotonic() < deadline, f"{what}: still {j.state} after {JOB_WAIT_S} s: {j}"
        time.sleep(0.1)
        j = jobs.retrieve_job(job.id)
        assert sent_requests[-1][1] == f"{BASE}/v1/jobs/{job.id}", sent_requests[-1]
        assert_job(j, what, job.type)
    assert j.state == "FINISHED", f"{what}: {describe_job(j)}"
    assert isinstance(j.ended_time, datetime.datetime), what
    assert j.ended_time >= j.created_time, what
    return j


@suite.check("import_users with the models as typed sends Python reprs, not JSON: a 400 ApiError")
def _():
    before = jobs.retrieve_jobs().page.total_elements
    del sent_requests[:]
    never = ChatUserImport(name=f"never-{RUN}", display_name="N", is_guest=False, properties={})
    assert_api_error(expect_error(400, lambda: imports.import_users([never, never])))
    [(method, url, _query, form)] = sent_requests
    assert (method, url) == ("POST", f"{BASE}/v1/imports/users"), (method, url)
    [(field, value)] = form
    assert field == "file" and isinstance(value, str), form
    assert value.startswith("{'name': 'never-"), value
    assert "'isGuest': False" in value and "},{" in value, value
    try:
        json.loads(value)
    except ValueError:
        pass
    else:
        raise AssertionError(f"the client sent JSON; update compat/README.md: {value}")
    assert jobs.retrieve_jobs().page.total_elements == before, "no job was started"


@suite.check("import_users (JSON of the models) is 202 USER_IMPORT; retrieve_job polls it to FINISHED")
def _():
    u = ChatUserImport(
        name=imp_name,
        display_name="P Imported",
        is_guest=True,
        properties={"imported": RUN},
        id=f"pu-{RUN}",
    )
    del sent_requests[:]
    j = imports.import_users(json_file([u]), **IMPORT_CALL)
    [(field, value)] = sent_requests[0][3]
    assert field == "file" and json.loads(value)[0]["isGuest"] is True, value
    started(j, "USER_IMPORT", "user import")
    import_jobs["users"] = finished(j, "user import")
    page = users.retrieve_users(name=imp_name)
    assert page.page.total_elements == 1, describe_job(import_jobs["users"])
    x = page.embedded.users[0]
    assert_user(x, "imported user")
    assert x.name == imp_name and x.is_guest is True
    assert x.properties == {"imported": RUN}, x.properties
    imp["user"] = x
    expect_error(404, lambda: jobs.retrieve_job(999999999))


@suite.check("import_channels is 202 CHANNEL_IMPORT; the PUBLIC channel exists with its creator and members")
def _():
    c = PublicChannelImport(
        type="PUBLIC",
        name=f"pimp-ch-{RUN}",
        display_name="P Imported Channel",
        creator=alice_name,
        members=[alice_name, imp_name],
        properties={"imported": RUN},
        id=f"pc-{RUN}",
    )
    j = imports.import_channels(json_file([c]), **IMPORT_CALL)
    started(j, "CHANNEL_IMPORT", "channel import")
    import_jobs["channels"] = finished(j, "channel import")
    page = channels.retrieve_channels(properties=json.dumps({"imported": RUN}))
    listed = list(page.embedded.channels) if "embedded" in page else []
    assert len(listed) == 1, describe_job(import_jobs["channels"])
    x = listed[0]
    assert isinstance(x, PublicChannelResource), type(x)
    assert x.name == f"pimp-ch-{RUN}" and x.creator.name == alice_name
    members = channels.retrieve_channel_members(x.id, size=100).embedded.users
    assert sorted(u.name for u in members) == sorted([alice_name, imp_name])
    imp["channel"] = x


@suite.check("the import elements' camelCase displayName (PY's ChatUserImport, PublicChannelImport) is read")
def _():
    got = {
        "user": imp["user"].display_name if "user" in imp else None,
        "channel": imp["channel"].display_name if "channel" in imp else None,
    }
    want = {"user": "P Imported", "channel": "P Imported Channel"}
    assert got == want, f"imported with {{displayName: ...}}: got {got}, want {want}"


@suite.check("import_channel_members is 202 CHANNEL_MEMBERS_IMPORT; the member is added")
def _():
    cid = imp["channel"].id
    j = imports.import_channel_members(
        cid, json_file([ChannelMembershipImport(username=bob_name)]), **IMPORT_CALL
    )
    assert sent_requests[-1][1] == f"{BASE}/v1/imports/channels/{cid}/members", sent_requests[-1]
    started(j, "CHANNEL_MEMBERS_IMPORT", "member import")
    import_jobs["members"] = finished(j, "member import")
    members = channels.retrieve_channel_members(cid, size=100).embedded.users
    assert bob_name in [u.name for u in members], describe_job(import_jobs["members"])


@suite.check("import_messages (camelCase channelId) is 202 MESSAGE_IMPORT; the messages are in the channel")
def _():
    cid = imp["channel"].id
    j = imports.import_messages(
        json_file(
            [
                TextChatUserMessageImport(
                    type="TEXT",
                    channel_id=cid,
                    body=f"p imported {RUN}",
                    user=alice_name,
                    group_tag="pimp",
                    properties={"n": 1},
                ),
                TextSystemMessageImport(type="SYSTEM_TEXT", channel_id=cid, body="p imported notice"),
            ]
        ),
        **IMPORT_CALL,
    )
    started(j, "MESSAGE_IMPORT", "message import")
    import_jobs["messages"] = finished(j, "message import")
    listed = [m for p in traverse(lambda **kw: channels.retrieve_channel_messages(cid, **kw), 10)
              for m in p]
    assert len(listed) == 2, f"{len(listed)} messages: {describe_job(import_jobs['messages'])}"
    text = next(m for m in listed if m.type == "TEXT")
    assert isinstance(text, TextChatUserMessageResource), type(text)
    assert text.body == f"p imported {RUN}" and text.user.name == alice_name
    assert text.group_tag == "pimp" and text.properties == {"n": 1}
    notice = next(m for m in listed if m.type == "SYSTEM_TEXT")
    assert isinstance(notice, TextSystemMessageResource) and notice.body == "p imported notice"


@suite.check("retrieve_jobs(running=False) lists the four import jobs, FINISHED; running=True none")
def _():
    assert len(import_jobs) == 4, sorted(import_jobs)
    del sent_requests[:]
    page = jobs.retrieve_jobs(running=False, size=100)
    # PY writes the boolean as Python does: `running=False`.
    assert ("running", False) in sent_requests[0][2], sent_requests[0]
    assert isinstance(page, PagedModelApplicationJobResource), type(page)
    assert page.page.total_elements >= 4 and isinstance(page.links, Links)
    listed = {j.id: j for j in page.embedded.jobs}
    for j in import_jobs.values():
        assert j.id in listed, f"job {j.id} ({j.type}) listed"
        assert_job(listed[j.id], "listed job", j.type)
        assert listed[j.id].state == "FINISHED"
    running = jobs.retrieve_jobs(running=True, size=100)
    now = [j.id for j in running.embedded.jobs] if "embedded" in running else []
    assert not set(now) & {j.id for j in import_jobs.values()}, now


# ---- Deletes ----


@suite.check("delete_message returns a thread; delete_channel; delete_messages")
def _():
    m = sent.pop()
    t = messages.delete_message(m.id)
    assert isinstance(t, ReplyThreadResource) and t.type in ("MAIN", "STANDALONE", "MESSAGE")
    expect_error(404, lambda: messages.retrieve_message(m.id))
    app = channels.delete_channel(ch["priv"].id)
    assert app.key and isinstance(app.created_time, datetime.datetime)
    expect_error(404, lambda: channels.retrieve_channel(ch["priv"].id))
    assert messages.delete_messages().key
    left = messages.retrieve_messages(size=5)
    assert "embedded" not in left or not left.embedded.messages


# ---- Runtime and functions (§6 steps 30-31, `/v1`) ----
# After everything else: a function of the application may run on the events of the steps
# above, and none should. PY validates the function `type` against ChatKitty's 17 triggers and
# has no `initializeAsynchronously`.

runtime = RuntimeApi(client)
functions = FunctionsApi(client)
function_versions = FunctionVersionsApi(client)
fn = {}


def assert_runtime(r, what):
    assert isinstance(r, ChatRuntimeResource), f"{what}: {type(r)}"
    assert r.type == "NODEJS", what
    assert isinstance(r.id, int), what
    assert isinstance(r.dependencies, list), what
    assert isinstance(r.environment_variables, dict), what
    assert isinstance(r.version, str) and r.version, what
    assert isinstance(r.links, Links), what


@suite.check("runtime: retrieve, dependencies, environment variables, initialization script")
def _():
    before = runtime.retrieve_nodejs_runtime()
    assert_runtime(before, "runtime")
    fn["runtime_id"] = before.id
    deps = runtime.update_nodejs_runtime_dependencies(
        [ChatRuntimeDependencyProperties(name="lodash", version="4.17.21", default_dependency=False)]
    )
    assert_runtime(deps, "runtime")
    lodash = [d for d in deps.dependencies if d.name == "lodash"]
    assert lodash and lodash[0].version == "4.17.21" and lodash[0].default_dependency is False
    assert deps.version != before.version, "the version moves on"
    env = runtime.update_nodejs_runtime_environment_variables(
        ChatRuntimeEnvironmentVariablesProperties(FOO="bar")
    )
    assert_runtime(env, "runtime")
    assert env.environment_variables["FOO"] == "bar", env.environment_variables
    script = runtime.update_nodejs_runtime_initialization_script(
        ChatRuntimeScriptProperties(script="module.exports={}")
    )
    assert script.initialization_script.script == "module.exports={}"
    assert runtime.retrieve_nodejs_runtime().initialization_script.script == "module.exports={}"


@suite.check("functions: create, list, two versions, current version, invocations")
def _():
    made = None
    try:
        made = runtime.create_nodejs_runtime_function(
            CreateChatFunctionResource(type="user.sent.message", name=f"pyOnMsg-{RUN}")
        )
    except exceptions.ApiException as e:
        # The script ran against this server before: the application has its function already.
        if e.status != 409:
            raise
    if made is not None:
        assert isinstance(made, ChatFunctionResource), type(made)
        assert made.type == "user.sent.message" and made.enabled is True
        assert made.current_version_number == 0
        assert made.runtime.type == "NODEJS" and made.runtime.id == fn["runtime_id"]
        expect_error(404, lambda: functions.retrieve_function_current_version(made.id))
    page = runtime.retrieve_nodejs_runtime_functions(page=0, size=100)
    assert isinstance(page, PagedModelChatFunctionResource), type(page)
    listed = [f for f in page.embedded.functions if f.type == "user.sent.message"]
    assert listed, "listed"
    if made is not None:
        assert listed[0].id == made.id
    fid = listed[0].id
    base = listed[0].current_version_number
    assert_api_error(
        expect_error(
            409,
            lambda: runtime.create_nodejs_runtime_function(
                CreateChatFunctionResource(type="user.sent.message", name="again")
            ),
        )
    )

    v1 = functions.create_function_version(
        fid, CreateChatFunctionVersionResource(handler_script="async function handleEvent() {}")
    )
    assert isinstance(v1, ChatFunctionVersionResource), type(v1)
    assert v1.version_number == base + 1
    v2 = functions.create_function_version(
        fid, CreateChatFunctionVersionResource(handler_script="async function handleEvent() {}\n")
    )
    assert v2.version_number == base + 2
    current = functions.retrieve_function_current_version(fid)
    assert current.id == v2.id and current.version_number == base + 2
    versions = functions.retrieve_function_versions(fid, size=100)
    assert isinstance(versions, PagedModelChatFunctionVersionResource), type(versions)
    assert versions.page.total_elements == base + 2
    assert v1.id in [v.id for v in versions.embedded.versions]
    again = function_versions.retrieve_function_version(v1.id)
    assert again.handler_script == v1.handler_script
    f = functions.retrieve_function(fid)
    assert f.current_version_number == base + 2
    # PY's ChatFunctionInvocationResource module does not compile (its constructor names two
    # parameters `args`), so no invocation page can be deserialized: it is read as JSON, as a
    # PY user has to.
    raw = functions.retrieve_function_invocations(fid, _preload_content=False)
    assert raw.status == 200, raw.status
    invocations = json.loads(raw.data)
    assert isinstance(invocations["page"]["totalElements"], int), invocations
    for i in invocations.get("_embedded", {}).get("invocations", []):
        assert i["status"] in ("RUNNING", "SUCCEEDED", "FAILED"), i
        assert isinstance(i["versionNumber"], int) and isinstance(i["args"], dict), i
    expect_error(404, lambda: functions.retrieve_function(999999999))


suite.finish()
