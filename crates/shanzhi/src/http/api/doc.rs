//! Routes that document themselves: every API route is added through [`Routes`], which
//! records its method, path and description, so `/api/v1/openapi.json` is generated from the
//! same calls that build the router and cannot drift from it. Each body property and
//! parameter carries the rule its handler enforces ([`schema`]), so the document can be
//! fuzzed against the server (crates/shanzhi/tests/schemathesis/run).

use axum::handler::Handler;
use axum::routing::{delete, get, patch, post, put, MethodRouter};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::http::state::AppState;

/// JSON Schemas of single values, named after the rules that check them: the document states
/// what the handlers enforce, so a client (or schemathesis) that keeps to it is not refused
/// for the shape of its request, and one that breaks it is.
pub mod schema {
    use serde_json::{json, Value};
    use shanzhi_domain::tree::MAX_NAME_CHARS;

    /// Characters Rust's `char::is_control` refuses (Unicode Cc), as a regex class body.
    const CONTROL: &str = r"\x00-\x1f\x7f-\x9f";

    /// A whole number in `min..=max`.
    pub fn integer(min: i64, max: i64) -> Value {
        json!({"type": "integer", "format": "int64", "minimum": min, "maximum": max})
    }

    /// Any 64-bit integer: record ids in paths and filters (an unknown one answers 404 or
    /// nothing), never larger than the server can read.
    pub fn int64() -> Value {
        integer(i64::MIN, i64::MAX)
    }

    /// A number in `min..=max`.
    pub fn number(min: f64, max: f64) -> Value {
        json!({"type": "number", "minimum": min, "maximum": max})
    }

    /// `true` or `false`.
    pub fn boolean() -> Value {
        json!({"type": "boolean"})
    }

    /// One of these words.
    pub fn one_of(words: &[&str]) -> Value {
        json!({"type": "string", "enum": words})
    }

    /// A string matching `re` (anchor it).
    pub fn pattern(re: &str) -> Value {
        json!({"type": "string", "pattern": re})
    }

    /// Any string without NUL (the query extractor refuses NUL; PostgreSQL cannot store it).
    pub fn string() -> Value {
        json!({"type": "string", "pattern": r"^[^\x00]*$"})
    }

    /// A string of `min..=max` characters, any but NUL.
    pub fn text(min: usize, max: usize) -> Value {
        json!({"type": "string", "minLength": min, "maxLength": max, "pattern": r"^[^\x00]*$"})
    }

    /// Free text as notes and descriptions take it: at most `max` characters, no control
    /// characters but tab and line breaks; `required` also wants one that is not blank.
    pub fn note(max: usize, required: bool) -> Value {
        let other = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]";
        let re = if required {
            format!(r"^{other}*[^\s\x00-\x1f\x7f-\x9f]{other}*$")
        } else {
            format!("^{other}*$")
        };
        json!({"type": "string", "maxLength": max, "pattern": re})
    }

    /// A name as `parse_name` takes it: not blank, at most 100 characters, no control characters.
    pub fn name() -> Value {
        json!({"type": "string", "maxLength": MAX_NAME_CHARS,
            "pattern": format!(r"^[^{CONTROL}]*[^\s{CONTROL}][^{CONTROL}]*$")})
    }

    /// A short label like a name but of at most `max` characters: not blank, no control
    /// characters.
    pub fn label(max: usize) -> Value {
        let mut v = name();
        v["maxLength"] = json!(max);
        v
    }

    /// A region code (12 digits: significant parts, then zeros) or a grid code (a village code
    /// and 1 to 5 segments of 3 digits), as `NodeCode::parse` takes it.
    pub fn node_code() -> Value {
        pattern(NODE_CODE)
    }

    /// A coordinate system positions may be declared in.
    pub fn crs() -> Value {
        serde_json::json!({"type": "string", "enum": ["wgs84", "cgcs2000", "gcj02", "bd09"]})
    }

    /// A region code only (12 digits).
    pub fn region_code() -> Value {
        pattern(REGION_CODE)
    }

    const NODE_CODE: &str = concat!(
        r"^(0[1-9]|[1-9][0-9])(",
        r"0{10}|(0[1-9]|[1-9][0-9])(0{8}|(0[1-9]|[1-9][0-9])(0{6}|(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})",
        r"(000|00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})))",
        r"|[0-9]{7}(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2}){1,5}",
        r")$"
    );
    const REGION_CODE: &str = concat!(
        r"^(0[1-9]|[1-9][0-9])(",
        r"0{10}|(0[1-9]|[1-9][0-9])(0{8}|(0[1-9]|[1-9][0-9])(0{6}|(00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})",
        r"(000|00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})))",
        r")$"
    );

    /// A login name: 3 to 64 of `a-z 0-9 _ . -` (upper case is folded to lower case).
    pub fn username() -> Value {
        pattern(r"^[A-Za-z0-9_.-]{3,64}$")
    }

    /// A password: 10 to 128 characters (and not a common one).
    pub fn password() -> Value {
        text(10, 128)
    }

    /// A code of a category or a department: 1 to 64 of `A-Z a-z 0-9 - _ .`.
    pub fn code() -> Value {
        pattern(r"^[A-Za-z0-9_.-]{1,64}$")
    }

    /// A day, `YYYY-MM-DD`.
    pub fn date() -> Value {
        json!({"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
    }

    /// The SHA-256 of a photo, 64 hexadecimal digits.
    pub fn photo_hash() -> Value {
        pattern(r"^[0-9a-fA-F]{64}$")
    }

    /// An array of `items`.
    pub fn array(items: Value) -> Value {
        json!({"type": "array", "items": items})
    }

    /// An array of `items`, at most `max` of them.
    pub fn array_max(items: Value, max: usize) -> Value {
        json!({"type": "array", "items": items, "maxItems": max})
    }

    /// A GeoJSON Polygon or MultiPolygon.
    pub fn geometry() -> Value {
        json!({"type": "object", "description": "GeoJSON Polygon or MultiPolygon",
            "required": ["type", "coordinates"],
            "properties": {"type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]}, "coordinates": {"type": "array"}}})
    }

    /// `v`, or `null` (which means the same as leaving the field out).
    pub fn nullable(mut v: Value) -> Value {
        v["nullable"] = json!(true);
        // OpenAPI 3.0.3: with an enum, `nullable` allows null only when the enum lists it.
        if let Some(words) = v.get_mut("enum").and_then(Value::as_array_mut) {
            if !words.contains(&Value::Null) {
                words.push(Value::Null);
            }
        }
        v
    }
}

/// A query, path or header parameter.
#[derive(Clone)]
pub struct Param {
    pub name: &'static str,
    pub schema: Value,
    pub description: &'static str,
    pub required: bool,
}

/// What a route does, for the OpenAPI document.
#[derive(Clone)]
pub struct Doc {
    pub tag: &'static str,
    pub summary: &'static str,
    pub public: bool,
    pub body: Option<Value>,
    /// Media types of the body.
    pub body_media: &'static [&'static str],
    /// More media types the body may have, each with its own schema (a CSV beside GeoJSON).
    pub body_also: Vec<(&'static str, Value)>,
    pub query: Vec<Param>,
    pub path: Vec<Param>,
    pub headers: Vec<Param>,
    pub status: u16,
    /// Other success statuses (200 for a replayed create).
    pub also: Vec<u16>,
    /// Media type of the success response.
    pub produces: &'static str,
}

impl Doc {
    /// A route in group `tag` that needs a session.
    pub fn new(tag: &'static str, summary: &'static str) -> Doc {
        Doc {
            tag,
            summary,
            public: false,
            body: None,
            body_media: &["application/json"],
            body_also: Vec::new(),
            query: Vec::new(),
            path: Vec::new(),
            headers: Vec::new(),
            status: 200,
            also: Vec::new(),
            produces: "application/json",
        }
    }

    /// Needs no session.
    pub fn public(mut self) -> Doc {
        self.public = true;
        self
    }

    /// The JSON body: an object with these properties (`name?` is optional), no others.
    pub fn body(self, props: &[(&str, Value)]) -> Doc {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, schema) in props {
            let (name, optional) = match name.strip_suffix('?') {
                Some(n) => (n, true),
                None => (*name, false),
            };
            properties.insert(name.to_owned(), schema.clone());
            if !optional {
                required.push(Value::String(name.to_owned()));
            }
        }
        self.body_schema(json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false}))
    }

    /// The JSON body, as a whole schema.
    pub fn body_schema(mut self, schema: Value) -> Doc {
        self.body = Some(schema);
        self
    }

    /// A body of other media types: bytes, or JSON of this schema.
    pub fn raw_body(mut self, media: &'static [&'static str], schema: Option<Value>) -> Doc {
        let schema = schema.unwrap_or_else(|| json!({"type": "string", "format": "binary"}));
        self.body = Some(schema);
        self.body_media = media;
        self
    }

    /// The body may also be of media type `media`: text or bytes (`schema` None: binary).
    pub fn body_also(mut self, media: &'static str, schema: Option<Value>) -> Doc {
        let schema = schema.unwrap_or_else(|| json!({"type": "string", "format": "binary"}));
        self.body_also.push((media, schema));
        self
    }

    /// An optional query parameter.
    pub fn query(mut self, name: &'static str, schema: Value, description: &'static str) -> Doc {
        self.query.push(Param {
            name,
            schema,
            description,
            required: false,
        });
        self
    }

    /// A query parameter that must be given.
    pub fn query_required(
        mut self,
        name: &'static str,
        schema: Value,
        description: &'static str,
    ) -> Doc {
        self.query.push(Param {
            name,
            schema,
            description,
            required: true,
        });
        self
    }

    /// What the path parameter `{name}` takes.
    pub fn path(mut self, name: &'static str, schema: Value) -> Doc {
        self.path.push(Param {
            name,
            schema,
            description: "",
            required: true,
        });
        self
    }

    /// A request header that must be given.
    pub fn header(mut self, name: &'static str, schema: Value, description: &'static str) -> Doc {
        self.headers.push(Param {
            name,
            schema,
            description,
            required: true,
        });
        self
    }

    /// Answers 201 Created.
    pub fn created(mut self) -> Doc {
        self.status = 201;
        self
    }

    /// May also answer `status` with the same body.
    pub fn also(mut self, status: u16) -> Doc {
        self.also.push(status);
        self
    }

    /// The success response has this media type (not JSON).
    pub fn produces(mut self, media: &'static str) -> Doc {
        self.produces = media;
        self
    }
}

/// The names of the `{parameters}` of a route's path.
pub fn path_params(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
}

/// A router that keeps a description of each of its routes.
pub struct Routes {
    pub router: Router<AppState>,
    pub ops: Vec<(&'static str, &'static str, Doc)>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    /// No routes yet.
    pub fn new() -> Routes {
        Routes {
            router: Router::new(),
            ops: Vec::new(),
        }
    }

    /// Adds a route built elsewhere (with layers), described by `doc`.
    pub fn route(
        mut self,
        method: &'static str,
        path: &'static str,
        mr: MethodRouter<AppState>,
        doc: Doc,
    ) -> Routes {
        self.router = self.router.route(path, mr);
        self.ops.push((method, path, doc));
        self
    }

    /// Adds a route whose pattern serves several paths documented each on its own (the moves
    /// of `/events/{id}/{action}`, each with the body it needs).
    pub fn route_as(
        mut self,
        method: &'static str,
        pattern: &'static str,
        mr: MethodRouter<AppState>,
        documented: Vec<(&'static str, Doc)>,
    ) -> Routes {
        self.router = self.router.route(pattern, mr);
        for (path, doc) in documented {
            self.ops.push((method, path, doc));
        }
        self
    }

    /// GET `path`.
    pub fn get<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        h: H,
        doc: Doc,
    ) -> Routes {
        self.route("get", path, get(h), doc)
    }

    /// POST `path`.
    pub fn post<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        h: H,
        doc: Doc,
    ) -> Routes {
        self.route("post", path, post(h), doc)
    }

    /// PATCH `path`.
    pub fn patch<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        h: H,
        doc: Doc,
    ) -> Routes {
        self.route("patch", path, patch(h), doc)
    }

    /// PUT `path`.
    pub fn put<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        h: H,
        doc: Doc,
    ) -> Routes {
        self.route("put", path, put(h), doc)
    }

    /// DELETE `path`.
    pub fn delete<H: Handler<T, AppState>, T: 'static>(
        self,
        path: &'static str,
        h: H,
        doc: Doc,
    ) -> Routes {
        self.route("delete", path, delete(h), doc)
    }

    /// Adds another module's routes.
    pub fn merge(mut self, other: Routes) -> Routes {
        self.router = self.router.merge(other.router);
        self.ops.extend(other.ops);
        self
    }

    /// The OpenAPI 3 document of these routes.
    pub fn openapi(&self) -> Value {
        let mut paths = Map::new();
        for (method, path, doc) in &self.ops {
            let mut params: Vec<Value> = path_params(path)
                .map(|name| {
                    let schema = doc
                        .path
                        .iter()
                        .find(|p| p.name == name)
                        .map_or_else(|| json!({"type": "string"}), |p| p.schema.clone());
                    json!({"name": name, "in": "path", "required": true, "schema": schema})
                })
                .collect();
            for (place, list) in [("query", &doc.query), ("header", &doc.headers)] {
                for p in list {
                    params.push(json!({"name": p.name, "in": place, "required": p.required, "description": p.description, "schema": p.schema}));
                }
            }
            let success = if doc.produces == "application/json" {
                json!({"type": "object"})
            } else {
                json!({"type": "string", "format": "binary"})
            };
            let mut op = json!({
                "tags": [doc.tag],
                "summary": doc.summary,
                "operationId": format!("{method}_{}", path.trim_start_matches("/api/v1/").replace(['/', '{', '}'], "_").trim_end_matches('_')),
                "parameters": params,
                "responses": {
                    doc.status.to_string(): {"description": "success", "content": {doc.produces: {"schema": success}}},
                    "4XX": {"description": "refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            });
            for status in &doc.also {
                op["responses"][status.to_string()] =
                    op["responses"][doc.status.to_string()].clone();
            }
            if !doc.public {
                op["security"] = json!([{"bearer": []}, {"cookie": []}]);
            }
            if let Some(body) = &doc.body {
                let content: Map<String, Value> = doc
                    .body_media
                    .iter()
                    .map(|m| (m.to_string(), json!({"schema": body})))
                    .chain(
                        doc.body_also
                            .iter()
                            .map(|(m, s)| (m.to_string(), json!({"schema": s}))),
                    )
                    .collect();
                op["requestBody"] = json!({"required": true, "content": content});
            }
            let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
            entry[*method] = op;
        }
        json!({
            "openapi": "3.0.3",
            "info": {"title": "Shanzhi API", "version": env!("CARGO_PKG_VERSION"), "description": "善治 grid-based governance: regions and grids, users, events and work orders, figures."},
            "servers": [{"url": "/"}],
            "paths": paths,
            "components": {
                "securitySchemes": {
                    "bearer": {"type": "http", "scheme": "bearer", "description": "token from POST /api/v1/auth/login"},
                    "cookie": {"type": "apiKey", "in": "cookie", "name": "shanzhi_session", "description": "writes also need the X-CSRF-Token header"},
                },
                "schemas": {"Error": {"type": "object", "required": ["code", "message", "field"], "properties": {
                    "code": {"type": "string"}, "message": {"type": "string", "description": "English, for API users"}, "field": {"type": "string", "nullable": true},
                    "reason": {"type": "string", "description": "stable key of the reason, for clients to translate (the code when there is no finer one)"},
                    "params": {"type": "object", "additionalProperties": {"type": "string"}, "description": "the values the reason's sentence needs"}}}},
            },
        })
    }
}
