"""Drives a running Shanzhi through a real third-party Open311 client, the PyPI package
`georeport`, in both formats, and checks what comes back against the GeoReport v2 spec.

Run by crates/shanzhi/tests/api/open311.rs with the CI virtual environment's python:

    python georeport_client.py --base URL --jurisdiction CODE --api-key KEY \
        --open-id N --closed-id M --media-id K --start W3C --end W3C

Exits non-zero, with the failed assertion on stderr, if anything is off.
"""

import argparse
import datetime
import json
import pathlib
import sys
import xml.etree.ElementTree as ET

import georeport
import requests
from georeport import GeoReport

SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
REQUEST_FIELDS = {
    "service_request_id", "status", "status_notes", "service_name", "service_code", "description",
    "agency_responsible", "service_notice", "requested_datetime", "updated_datetime", "expected_datetime",
    "address", "address_id", "zipcode", "lat", "long", "media_url",
}
ATTRIBUTE_FIELDS = {"variable", "code", "datatype", "required", "datatype_description", "order", "description"}


def as_list(x):
    """xmltodict gives a dict for one repeated element and a list for several."""
    if x is None:
        return []
    return x if isinstance(x, list) else [x]


def truthy(v):
    """JSON booleans arrive as bool, XML ones as the text 'true'/'false'."""
    return v is True or v == "true"


def w3c(s):
    """A W3C datetime with a zone, as the spec requires."""
    t = datetime.datetime.fromisoformat(s)
    assert t.tzinfo is not None, f"no time zone in {s!r}"
    return t


def check(cond, what):
    if not cond:
        raise AssertionError(what)


SCHEMAS = pathlib.Path(__file__).resolve().parent / "schemas"


def check_schema(name, value):
    """Validates a JSON answer against tests/open311/schemas/NAME.json with PyPI jsonschema,
    when it is installed (the Rust tests validate the same files in any case)."""
    try:
        import jsonschema
    except ImportError:
        return
    schema = json.loads((SCHEMAS / f"{name}.json").read_text(encoding="utf-8"))
    errors = [e.message for e in jsonschema.Draft202012Validator(schema).iter_errors(value)]
    check(not errors, f"{name}.json: {errors}")


def raw_xml(url, params, root, item=None, fields=None):
    """Fetches an XML document and checks that it is well-formed and named as the spec names it."""
    r = requests.get(url, params=params, timeout=30)
    check(r.headers.get("content-type", "").startswith("text/xml"), f"{url}: content-type {r.headers.get('content-type')}")
    check(r.content.startswith(b"<?xml"), f"{url}: no XML declaration")
    doc = ET.fromstring(r.content)  # raises on ill-formed XML
    check(doc.tag == root, f"{url}: root <{doc.tag}>, expected <{root}>")
    if item is not None:
        for child in doc:
            check(child.tag == item, f"{url}: <{child.tag}> in <{root}>, expected <{item}>")
            names = {c.tag for c in child}
            check(names <= fields, f"{url}: foreign elements {names - fields}")
    return r, doc


def check_error(resp, status, fmt):
    check(resp.status_code == status, f"status {resp.status_code}, expected {status}")
    if fmt == "json":
        body = resp.json()
        check(isinstance(body, list) and body, f"errors must be a list: {body}")
        check(set(body[0]) == {"code", "description"} and body[0]["description"], f"error shape {body}")
    else:
        doc = ET.fromstring(resp.content)
        check(doc.tag == "errors" and [c.tag for c in doc] == ["error"], f"error document {resp.text}")
        check({c.tag for c in doc[0]} == {"code", "description"}, f"error fields {resp.text}")


def run(args):
    base = args.base.rstrip("/")
    for fmt in ("json", "xml"):
        client = GeoReport(base, jurisdiction=args.jurisdiction, api_key=args.api_key, output_format=fmt)

        # The service list.
        services = as_list(client.get_service_list())
        codes = {s["service_code"] for s in services}
        check({"exposed_garbage", "gas"} <= codes, f"[{fmt}] services {codes}")
        for s in services:
            check(set(s) <= SERVICE_FIELDS, f"[{fmt}] service fields {set(s)}")
            check(truthy(s["metadata"]) and s["type"] == "realtime", f"[{fmt}] service {s}")
            check(s["service_name"], f"[{fmt}] service without a name {s}")

        # A service definition with its attributes.
        d = client.get_service_definition("gas")
        check(d["service_code"] == "gas", f"[{fmt}] definition {d}")
        attrs = d["attributes"] if fmt == "json" else as_list(d["attributes"]["attribute"])
        by_code = {a["code"]: a for a in attrs}
        check({"severity", "affected", "address_detail", "occurred_at"} <= set(by_code), f"[{fmt}] attributes {set(by_code)}")
        for a in attrs:
            check(set(a) - {"values"} <= ATTRIBUTE_FIELDS, f"[{fmt}] attribute fields {set(a)}")
        sev = by_code["severity"]
        check(sev["datatype"] == "singlevaluelist" and truthy(sev["required"]), f"[{fmt}] severity {sev}")
        values = sev["values"] if fmt == "json" else as_list(sev["values"]["value"])
        check({v["key"] for v in values} == {"minor", "serious", "danger"}, f"[{fmt}] severity values {values}")
        check(by_code["affected"]["datatype"] == "multivaluelist", f"[{fmt}] affected {by_code['affected']}")

        # The request filed with a form-encoded POST, read back by id.
        r = client.get_service_request(str(args.open_id))
        check(set(r) <= REQUEST_FIELDS, f"[{fmt}] request fields {set(r)}")
        check(str(r["service_request_id"]) == str(args.open_id), f"[{fmt}] request {r}")
        check(r["status"] == "open" and r["service_code"] == "exposed_garbage", f"[{fmt}] request {r}")
        check(abs(float(r["lat"]) - 22.785) < 1e-9 and abs(float(r["long"]) - 115.305) < 1e-9, f"[{fmt}] position {r}")
        check(r["address"] and "5th street" in r["address"], f"[{fmt}] address {r}")
        check("sinkhole" in r["description"], f"[{fmt}] description {r}")
        check(w3c(r["requested_datetime"]) <= w3c(r["updated_datetime"]), f"[{fmt}] dates {r}")
        check(w3c(r["expected_datetime"]) > w3c(r["requested_datetime"]), f"[{fmt}] expected {r}")
        check(r["agency_responsible"] and r["service_notice"], f"[{fmt}] agency/notice {r}")
        check(r["media_url"].startswith("http://"), f"[{fmt}] media_url {r}")
        for hidden in ("email", "phone", "first_name", "last_name", "device_id", "account_id"):
            check(hidden not in r, f"[{fmt}] {hidden} must never be shown")

        # The request filed with a multipart POST: its description as sent (its attributes are
        # kept apart), its photo served at its media_url.
        m = client.get_service_request(str(args.media_id))
        check(m["service_code"] == "gas" and m["description"] == "楼道里有很浓的燃气味", f"[{fmt}] media request {m}")
        photo = requests.get(m["media_url"], timeout=30)
        check(photo.status_code == 200 and photo.headers["content-type"] == "image/png", f"[{fmt}] photo {photo.status_code}")

        # Several ids at once.
        both = as_list(client.get_service_requests(service_request_id=f"{args.open_id},{args.closed_id}"))
        check({str(x["service_request_id"]) for x in both} == {str(args.open_id), str(args.closed_id)}, f"[{fmt}] by ids {both}")

        # Filters: status, dates, service code.
        closed = as_list(client.get_service_requests(status="closed", start_date=args.start, end_date=args.end))
        check([str(x["service_request_id"]) for x in closed] == [str(args.closed_id)], f"[{fmt}] closed {closed}")
        check(closed[0]["status_notes"], f"[{fmt}] a refused request says why {closed}")
        opened = as_list(client.get_service_requests(status="open", start_date=args.start, end_date=args.end))
        check(str(args.open_id) in {str(x["service_request_id"]) for x in opened}, f"[{fmt}] open {opened}")
        check(all(x["status"] == "open" for x in opened), f"[{fmt}] open filter {opened}")
        gas = as_list(client.get_service_requests(service_code="gas"))
        check(gas and all(x["service_code"] == "gas" for x in gas), f"[{fmt}] by service_code {gas}")
        in_2001 = {"start_date": "2001-01-01T00:00:00Z", "end_date": "2001-02-01T00:00:00+08:00"}
        if fmt == "json":
            before = client.get_service_requests(**in_2001)
            check(before == [], f"[{fmt}] nothing was requested in 2001: {before}")
        else:
            # georeport 0.3.1 cannot read an empty XML list (xmltodict makes the root None), so
            # the empty answer is read directly.
            _, doc = raw_xml(f"{base}/requests.xml", {**in_2001, "jurisdiction_id": args.jurisdiction}, "service_requests")
            check(len(doc) == 0, f"[{fmt}] nothing was requested in 2001")

        # A request that does not exist: the client raises on the spec's 404 and error list.
        try:
            client.get_service_request("999999")
            raise AssertionError(f"[{fmt}] a missing request must be a 404")
        except requests.HTTPError as e:
            check_error(e.response, 404, fmt)

    # The XML documents themselves: well-formed, and named as the spec names them.
    params = {"jurisdiction_id": args.jurisdiction}
    raw_xml(f"{base}/services.xml", params, "services", "service", SERVICE_FIELDS)
    _, d = raw_xml(f"{base}/services/gas.xml", params, "service_definition")
    check([c.tag for c in d] == ["service_code", "attributes"], "service_definition children")
    check({c.tag for c in d.find("attributes")} == {"attribute"}, "attributes children")
    raw_xml(f"{base}/requests.xml", params, "service_requests", "request", REQUEST_FIELDS)
    raw_xml(f"{base}/requests/{args.open_id}.xml", params, "service_requests", "request", REQUEST_FIELDS)
    _, disc = raw_xml(f"{base}/discovery.xml", {}, "discovery")
    check({c.tag for c in disc} == {"changeset", "contact", "key_service", "endpoints"}, "discovery fields")
    raw_xml(f"{base}/servicerequestupdates.xml", {"start_date": args.start, "end_date": args.end}, "service_request_updates",
            "request_update", {"update_id", "service_request_id", "status", "updated_datetime", "description", "media_url"})
    # The JSON answers against the schemas written from the spec.
    def get_json(path, **params):
        r = requests.get(f"{base}/{path}", params=params, timeout=30)
        check(r.status_code == 200, f"{path}: {r.status_code}")
        return r.json()

    check_schema("discovery", get_json("discovery.json"))
    check_schema("services", get_json("services.json"))
    check_schema("service_definition", get_json("services/gas.json"))
    check_schema("requests", get_json("requests.json", extensions="true"))
    ext = get_json(f"requests/{args.media_id}.json", extensions="true")
    check_schema("requests", ext)
    attrs = {(a["code"], a["value"]) for a in ext[0]["extended_attributes"]["attributes"]}
    check(("severity", "danger") in attrs, f"extended attributes {attrs}")
    check_schema("updates", get_json("servicerequestupdates.json", start_date=args.start, end_date=args.end))
    bad = requests.get(f"{base}/requests.xml", params={"start_date": "not-a-date"}, timeout=30)
    check_error(bad, 400, "xml")
    missing = requests.post(f"{base}/requests.json", data={"service_code": "gas", "lat": "22.785", "long": "115.305"}, timeout=30)
    check_error(missing, 403, "json")
    check_schema("errors", missing.json())
    print(f"georeport {georeport.__version__}: services, definitions, requests by id and by filter, in json and xml: ok")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--base", required=True)
    p.add_argument("--jurisdiction", required=True)
    p.add_argument("--api-key", required=True)
    p.add_argument("--open-id", required=True, type=int)
    p.add_argument("--closed-id", required=True, type=int)
    p.add_argument("--media-id", required=True, type=int)
    p.add_argument("--start", required=True)
    p.add_argument("--end", required=True)
    try:
        run(p.parse_args())
    except AssertionError as e:
        print(f"FAILED: {e}", file=sys.stderr)
        sys.exit(1)
