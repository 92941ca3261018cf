"""schemathesis hooks for Shanzhi: log in as the run's own account, and again whenever needed.

The run may log itself out (POST /auth/logout), change its own password (which ends its
sessions), disable or lock its own account: every such request is valid and must be tested.
So the token comes from an auth provider that schemathesis asks again after a 401; if the
account can no longer log in, a fresh one is made with `shanzhi user add` (straight into the
database, where the run cannot reach it) and the run goes on as that one.

A few rules cannot be written in JSON Schema: one field against another (a bounding box's
minimum below its maximum, `from` before `to`, working periods in order) and references to
records that must exist (a category, a department, a region, an event). For *valid* cases
only, `map_case` below bends the generated values to keep those rules, with real ids of the
demo town; invalid cases go out as generated.

Set by ./run: SZ_BASE (http://127.0.0.1:PORT), SZ_ROLE (admin or citizen), SZ_SCOPE (the
admin's region code), SZ_BIN and SZ_DATABASE_URL (for `shanzhi user add`), SZ_PREFIX (login
names of this run: PREFIX-1, PREFIX-2, …), SZ_CATEGORY, SZ_DEPARTMENTS (two ids, comma-separated),
SZ_EVENT, SZ_LON and SZ_LAT (a category, departments, an event and a point of the demo town).
"""

import ast
import os
import secrets
import subprocess
import threading
import time
from datetime import date, timedelta

import requests
import schemathesis

# CPython 3.11's ast.parse keeps its recursion depth in state shared by every thread, and two
# threads building Python ASTs at once can trip its consistency check ("SystemError: AST
# constructor recursion depth mismatch", python/cpython#106905). Hypothesis parses source with
# it to describe lambdas, from both of schemathesis' workers: one at a time, then.
_parse, _parse_lock = ast.parse, threading.Lock()


def _serial_parse(*args, **kwargs):
    with _parse_lock:
        return _parse(*args, **kwargs)


ast.parse = _serial_parse

BASE = os.environ["SZ_BASE"]
ROLE = os.environ["SZ_ROLE"]
PREFIX = os.environ["SZ_PREFIX"]

_lock = threading.Lock()
_account = {"n": 0, "username": None, "password": None, "event": None}


def _add_account():
    """Creates the next account of this run with the shanzhi binary and remembers it."""
    _account["n"] += 1
    username = f"{PREFIX}-{_account['n']}"
    password = "Sz-" + secrets.token_hex(12)
    cmd = [os.environ["SZ_BIN"], "--database-url", os.environ["SZ_DATABASE_URL"], "user", "add",
           username, "--role", ROLE, "--name", f"schemathesis {ROLE} {_account['n']}"]
    if ROLE != "citizen":
        cmd += ["--scope", os.environ["SZ_SCOPE"]]
    done = subprocess.run(cmd, input=password + "\n", capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        raise RuntimeError(f"shanzhi user add {username} failed: {done.stderr.strip()}")
    _account.update(username=username, password=password, event=None)


def _login():
    if _account["username"] is None:
        _add_account()
    for _ in range(5):
        r = requests.post(f"{BASE}/api/v1/auth/login", timeout=30,
                          json={"username": _account["username"], "password": _account["password"]})
        if r.status_code == 429:
            # Throttled (the run's own wrong guesses come from this address too): wait, retry.
            time.sleep(min(float(r.headers.get("Retry-After") or 1), 10))
            continue
        if r.status_code == 200:
            token = r.json()["token"]
            if _account["event"] is None:
                _account["event"] = _report(token)
            return token
        # Password changed, account disabled or locked by the run itself: start a new account.
        _add_account()
    raise RuntimeError(f"cannot log in as a fresh {ROLE}: {r.status_code} {r.text[:200]}")


def _report(token):
    """An event of this account's own (the only kind a citizen may name, e.g. to merge into)."""
    r = requests.post(f"{BASE}/api/v1/events", timeout=30,
                      headers={"Authorization": f"Bearer {token}", "Idempotency-Key": secrets.token_hex(8)},
                      json={"category_id": int(os.environ["SZ_CATEGORY"]), "description": "schemathesis",
                            "lon": float(os.environ["SZ_LON"]), "lat": float(os.environ["SZ_LAT"])})
    if r.status_code not in (200, 201):
        raise RuntimeError(f"cannot report an event: {r.status_code} {r.text[:200]}")
    return r.json()["id"]


@schemathesis.auth()
class ShanzhiLogin:
    """A bearer token of the run's account; schemathesis asks again after any 401."""

    def get(self, case, context):
        with _lock:
            return _login()

    def set(self, case, data, context):
        case.headers = case.headers or {}
        case.headers["Authorization"] = f"Bearer {data}"


_villages = {"next": 999}


def _village(name):
    """A new village under the administrator's town (no outline: regions may have none), with
    a code no village has yet (counting down from 999; the demo's count up from 001)."""
    town = os.environ["SZ_SCOPE"]
    with _lock:
        n = _villages["next"]
        _villages["next"] = max(n - 1, 1)
    return {"code": town[:9] + f"{n:03d}", "name": name, "level": "village", "parent": town}


def _env_ids(name):
    return [int(x) for x in os.environ.get(name, "").split(",") if x]


def _bbox(text):
    """Orders each pair of a bounding box and keeps it on the globe."""
    try:
        a, b, c, d = (float(x) for x in text.split(","))
    except ValueError:
        return text
    a, c = sorted((max(-180.0, min(180.0, a)), max(-180.0, min(180.0, c))))
    b, d = sorted((max(-90.0, min(90.0, b)), max(-90.0, min(90.0, d))))
    return f"{a},{b},{c},{d}"


def _days(query):
    """`from` on or before `to`, at most ten years apart, `to` by default today."""
    try:
        start = date.fromisoformat(query["from"]) if "from" in query else None
        end = date.fromisoformat(query["to"]) if "to" in query else date.today()
    except ValueError:
        return
    if start is not None:
        start, end = sorted((start, end))
        if (end - start).days > 3650:
            start = end - timedelta(days=3650)
        query["from"], query["to"] = start.isoformat(), end.isoformat()


def _calendar(body):
    """Working periods sorted and apart; no day both a holiday and a make-up workday."""
    times = sorted({t for pair in body.get("periods") or [] for t in pair if isinstance(t, str)})
    pairs = [times[i:i + 2] for i in range(0, len(times) - 1, 2)]
    body["periods"] = pairs or [["08:30", "17:30"]]
    if isinstance(body.get("workdays"), list) and isinstance(body.get("holidays"), list):
        body["workdays"] = [d for d in body["workdays"] if d not in body["holidays"]]


def _base_data(path, body):
    """Base-data records at the caller's own node, with the pairs the handlers want together
    (lon with lat, a licence number with its expiry, an owner or a member by id or by name)."""
    scope = os.environ["SZ_SCOPE"]
    for key in ("node_code",):
        if key in body:
            body[key] = scope
    if ("lon" in body) != ("lat" in body) or body.get("lon") is None or body.get("lat") is None:
        body.pop("lon", None)
        body.pop("lat", None)
    for key in ("footprint", "building_id", "owner_resident_id", "resident_id", "polygon"):
        body.pop(key, None)
    if path == "/api/v1/houses" and body.get("node_code") is None:
        body["node_code"] = scope
    if body.get("licence_expires") is not None and not (body.get("licence_no") or "").strip():
        body["licence_no"] = "ST-1"
    if path.endswith("/members"):
        body["role"] = "member"
        if not (body.get("name") or "").strip():
            body["name"] = "schemathesis"
    if path == "/api/v1/emergency/rosters":
        body["grids"] = [scope]
    if path == "/api/v1/places/{id}/checks" and body.get("result") != "passed" and not (body.get("note") or "").strip():
        body["note"] = "hazard"


@schemathesis.hook
def map_case(context, case):
    meta = getattr(case, "meta", None)
    if meta is None or not meta.generation.mode.is_positive:
        return case
    if any(not c.mode.is_positive for c in meta.components.values()):
        return case
    path, method = case.operation.path, case.method.upper()
    query = case.query if isinstance(case.query, dict) else None
    body = case.body if isinstance(case.body, dict) else None
    departments = _env_ids("SZ_DEPARTMENTS")
    if query is not None:
        if path in ("/api/v1/ledger/balances", "/api/v1/ledger/statements", "/api/v1/ledger/statements/export.xlsx") or path.startswith("/api/v1/points/"):
            # The books and the points are kept per village: the run's village.
            query["node"] = os.environ["SZ_GRID"][:12]
        if path in ("/api/v1/questions", "/api/v1/me/questions") and ("subject" in query) != ("subject_id" in query):
            # What a question is about is a pair: the kind of subject and its id, or neither.
            query.pop("subject", None)
            query.pop("subject_id", None)
        if "bbox" in query and isinstance(query["bbox"], str):
            query["bbox"] = _bbox(query["bbox"])
        if path in ("/api/v1/figures", "/api/v1/figures/export.xlsx"):
            _days(query)
        if path == "/api/v1/residents":
            # An exact ID number must carry a valid check digit: search by name or phone only.
            query.pop("id_number", None)
    if path == "/api/v1/tree/import" and getattr(case, "media_type", None) == "text/csv":
        # A valid spreadsheet: the village as its one row (the text drawn is not a CSV). Text,
        # so that it still matches the schema (a changed binary body would count as invalid);
        # .xlsx bodies have no serializer in schemathesis, so no valid one is ever sent.
        v = _village("schemathesis")
        case.body = f"code,name,level,parent\n{v['code']},{v['name']},{v['level']},{v['parent']}\n"
        return case
    if path == "/api/v1/residents/import" and getattr(case, "media_type", None) == "text/csv":
        # A valid sheet: one resident by name, in the run's area, good rows kept (text, so that
        # it still matches the schema; .xlsx bodies have no serializer in schemathesis).
        case.body = "姓名\nschemathesis\n"
        case.query = {"mode": "valid_rows", "format": "csv"}
        if os.environ["SZ_SCOPE"] not in ("", "None"):
            case.query["node"] = os.environ["SZ_SCOPE"]
        return case
    if path in ("/api/v1/places/import", "/api/v1/organisations/import", "/api/v1/buildings/import") and getattr(case, "media_type", None) == "text/csv":
        # A valid sheet: one place, organisation or building in the run's area, good rows kept
        # (see residents above).
        case.body = {"places": "场所名称,场所类型\nschemathesis,小商店\n",
                     "organisations": "组织名称,组织类型\nschemathesis,社会组织\n",
                     "buildings": "楼栋名称\nschemathesis\n"}[path.split("/")[3]]
        case.query = {"mode": "valid_rows", "format": "csv"}
        if os.environ["SZ_SCOPE"] not in ("", "None"):
            case.query["node"] = os.environ["SZ_SCOPE"]
        return case
    if body is None:
        return case
    if path == "/api/v1/residents/search":
        # As for the list's query: an exact ID number must carry a valid check digit.
        body.pop("id_number", None)
    if path == "/api/v1/ledger/entries" and method == "POST" or path == "/api/v1/ledger/closes":
        # The books are kept per village: the run's village (the run's accounts hold no duty,
        # so the answer is a refusal of the duty, not of the body).
        body["node"] = os.environ["SZ_GRID"][:12]
    if path == "/api/v1/questions" and method == "POST":
        # A suggestion names its village, a question its subject: one or the other.
        if body.get("subject") == "suggestion":
            body.pop("subject_id", None)
            body["node"] = os.environ["SZ_GRID"][:12]
        else:
            body.pop("node", None)
            if not isinstance(body.get("subject_id"), int):
                body["subject_id"] = 1
    if path == "/api/v1/consultations" and method == "POST":
        # Topics are a village's: the run's village (the admin's area holds it).
        body["node"] = os.environ["SZ_GRID"][:12]
    if path == "/api/v1/consultations/{id}/hold":
        # A meeting is held after its topic was opened and not in the future: just now.
        body["held_at"] = int(time.time() * 1000) - 1000
    if path == "/api/v1/draft-laws" and method == "POST":
        # A draft is put out at the administrator's own area, closing within the period.
        body["node"] = os.environ["SZ_SCOPE"]
        body["closes_on"] = (date.today() + timedelta(days=30)).isoformat()
    if path == "/api/v1/disclosures" and method == "POST":
        # Notices are a village's: the run's village (the admin's area holds it).
        body["node"] = os.environ["SZ_GRID"][:12]
    if path in ("/api/v1/contracts", "/api/v1/contracts/{id}") and method in ("POST", "PUT"):
        # The register is kept per village (the run's village), and a term ends after it
        # starts, with a meeting's reference only beside its date: the handler's rules.
        if method == "POST":
            body["node"] = os.environ["SZ_GRID"][:12]
        if isinstance(body.get("start"), str) and isinstance(body.get("end"), str):
            body["start"], body["end"] = sorted([body["start"], body["end"]])
        if body.get("meeting_ref") and not body.get("meeting_date"):
            body.pop("meeting_ref", None)
        # An area and a yearly price above zero (a pattern cannot say "not all zeros" portably).
        if isinstance(body.get("area"), str) and body["area"].strip("0.") == "":
            body["area"] = "12.50"
        if isinstance(body.get("yearly_price"), str) and body["yearly_price"].strip("0.") == "":
            body["yearly_price"] = "6000.00"
        # Scans are uploads of the run's own (none: an unknown hash is refused by field).
        body["photos"] = []
    if path == "/api/v1/contracts/{id}/flags/{flag}" and not (body.get("note") or "").strip():
        # Cleaning a flag up says how, and reopening a cleaned one says why.
        body["note"] = "schemathesis"
    if method == "POST" and path in ("/api/v1/points/rules", "/api/v1/points/items", "/api/v1/points/awards"):
        # Points are kept per village: the run's village (the awardee is the handler's check).
        body["node"] = os.environ["SZ_GRID"][:12]
        if body.get("kind") == "report_confirmed" and isinstance(body.get("points"), int):
            # A confirmed report earns points: never takes them.
            body["points"] = abs(body["points"]) or 1
    if path == "/api/v1/users/{id}/duties":
        # Which region a duty may sit at is the handler's rule: no duties is always valid.
        body["duties"] = []
    if path == "/api/v1/users/{id}/email" and isinstance(body.get("email"), str):
        # A real address (JSON Schema cannot say what one is; the handler checks it).
        body["email"] = f"st{secrets.token_hex(4)}@example.org"
    if "password" in body:
        # Strong enough for the strength rule, whatever was drawn.
        body["password"] = "Sz-" + secrets.token_hex(12)
    if path == "/api/v1/calendar":
        _calendar(body)
    elif path == "/api/v1/users" and method == "POST":
        body["scope"] = os.environ["SZ_SCOPE"]
        body["department_id"] = departments[0]
    elif path.startswith("/api/v1/categories"):
        body.pop("parent_id", None)
    elif path == "/api/v1/departments":
        body["region"] = os.environ["SZ_SCOPE"]
    elif path == "/api/v1/events" and method == "POST":
        body.update(category_id=int(os.environ["SZ_CATEGORY"]), photos=[],
                    lon=float(os.environ["SZ_LON"]), lat=float(os.environ["SZ_LAT"]))
        if body.get("crs") is not None:
            body["crs"] = "wgs84"  # the known point is WGS-84; another system moves it away
        # A new report gets a new key: the same key with another body is refused as a mistake.
        case.headers = case.headers or {}
        case.headers["Idempotency-Key"] = secrets.token_hex(8)
    elif path == "/api/v1/residents" and method == "POST":
        # In the run's area, a passport (a resident ID needs a check digit and a real region).
        body.update(node=os.environ["SZ_SCOPE"], id_kind="passport", gender="male", birth_year=1980,
                    id_number="E" + str(secrets.randbelow(10**8)).zfill(8), house_id=None)
    elif path == "/api/v1/residents/{id}" and method == "PATCH":
        for key in ("id_kind", "id_number", "gender", "birth_year", "user_id", "house_id", "node"):
            body.pop(key, None)
    elif path == "/api/v1/households" and method == "POST":
        body.update(node=os.environ["SZ_SCOPE"], house_id=None)
    elif path == "/api/v1/me/household/corrections":
        body.update(field="workplace", value="某单位")
    elif path == "/api/v1/visits" and method == "POST":
        # Photos must be the caller's uploads, a report needs a real category and a position
        # comes as a pair: a valid visit here is the plain one.
        body.update(photos=[], report=None, lon=None, lat=None)
    elif path == "/api/v1/residents/{id}/tags" and method == "POST":
        body["tag"] = "veteran"  # a tag of the catalogue
    elif path == "/api/v1/nodes" and method == "POST":
        body.clear()
        body.update(_village("schemathesis"))
    elif path == "/api/v1/tree/import":
        feature = _village("schemathesis")
        body.update(type="FeatureCollection", features=[
            {"type": "Feature", "properties": feature, "geometry": None}])
    elif path.startswith(("/api/v1/buildings", "/api/v1/houses", "/api/v1/places", "/api/v1/organisations", "/api/v1/emergency")):
        _base_data(path, body)
    elif path.startswith("/api/v1/events/{id}/") and path.endswith(("/locate", "/reporter_contact", "/duplicates", "/dispute")):
        pass  # no move of the loop: their bodies have no photos
    elif path in ("/api/v1/mediators", "/api/v1/mediators/{id}", "/api/v1/panels", "/api/v1/panels/{id}"):
        # Pools serve a village, town or county (the run's town); an account linked to a
        # mediator must be one (none here).
        if method == "POST" or body.get("node") is not None:
            body["node"] = os.environ["SZ_SCOPE"]
        body.pop("user_id", None)
    elif path == "/api/v1/me/disputes":
        # A citizen of the run has no household to place the dispute: name the town.
        body["node"] = os.environ["SZ_SCOPE"]
    elif path == "/api/v1/disputes/{id}/sessions":
        body["photos"] = []  # photos must be the caller's own uploads
    elif path == "/api/v1/disputes/{id}/actions":
        # What each move needs besides its name (one body for every move, so the schema cannot
        # say which field goes with which).
        needs = {
            "assign": ("mediator_id", 1),
            "record_outcome": ("outcome", "withdrawal"),
            "follow_up": ("honoured", True),
            "transfer_down": ("to_node", os.environ["SZ_SCOPE"]),
            "decide_extension": ("approve", True),
            "judicial_confirmation": ("date", date.today().isoformat()),
            "invite_panel": ("panel_id", 1),
        }
        field, value = needs.get(body.get("action"), (None, None))
        if field is not None and body.get(field) is None:
            body[field] = value
        if body.get("outcome") == "failure" and body.get("referral") is None:
            body["referral"] = "court"
    elif path == "/api/v1/risk-rules" and method == "POST":
        # Each kind's parameters (one object for every kind, so the schema cannot say which).
        body["node"] = os.environ["SZ_SCOPE"]
        body["params"] = {
            "category_burst": {"category_id": int(os.environ["SZ_CATEGORY"]), "min_events": 3, "days": 2},
            "dispute_flags": {"violence": True},
            "repeat_reporter": {"min_reports": 4, "days": 7},
            "dispute_rise": {"type_code": "wages", "days": 30, "min_cases": 2},
        }[body.get("kind", "dispute_flags")]
    elif path == "/api/v1/risk-rules/{id}":
        body.pop("params", None)  # the parameters of the rule's own kind, unknown here
    elif path == "/api/v1/risks" and method == "POST":
        body.update(node=os.environ["SZ_SCOPE"], title="schemathesis", event_id=None, dispute_id=None)
    elif path == "/api/v1/risks/{id}/actions":
        # What each move needs besides its name (one body for every move, as for disputes).
        needs = {
            "assess": {"level": "orange", "lead_department_id": departments[0], "helper_ids": [], "measures": "schemathesis"},
            "dismiss": {"reason": "schemathesis"},
            "report": {"text": "schemathesis"},
            "regrade": {"level": "red", "reason": "schemathesis"},
            "reassign": {"lead_department_id": departments[0], "helper_ids": []},
            "finish": {"summary": "schemathesis"},
            "review": {"approve": True},
        }
        body.update(needs.get(body.get("action"), {}))
    elif path == "/api/v1/warnings" and method == "POST":
        # One grid of the run's area by code (a drawn area and a risk id are tested elsewhere).
        body.update(grids=[os.environ["SZ_GRID"]], polygon=None, risk_id=None)
    elif path == "/api/v1/briefings" and method == "POST":
        body.update(node=os.environ["SZ_SCOPE"], at=None)
    elif path.startswith("/api/v1/events/{id}/"):
        body["photos"] = []
        if body.get("department_id") is not None or path.endswith("/dispatch"):
            body["department_id"] = departments[0]
        if body.get("departments") is not None or path.endswith("/summon"):
            body["departments"] = departments[:2]
            body["lead"] = departments[0]
        if body.get("report_by") is not None:
            # A summons' time to report by lies in the next 30 days.
            body["report_by"] = int(time.time() * 1000) + 3_600_000
        if body.get("ok") is False and not (body.get("note") or "").strip():
            body["note"] = "not fixed"  # a failed check says why
        if body.get("into") is not None:
            body["into"] = _account["event"] if ROLE == "citizen" else int(os.environ["SZ_EVENT"])
    return case
