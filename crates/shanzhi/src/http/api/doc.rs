//! Routes that document themselves: every API route is added through [`Routes`], which
//! records its method, path and description, so `/api/v1/openapi.json` is generated from the
//! same calls that build the router and cannot drift from it.

use axum::handler::Handler;
use axum::routing::{get, patch, post, put, MethodRouter};
use axum::Router;
use serde_json::{json, Map, Value};

use crate::http::state::AppState;

/// What a route does, for the OpenAPI document.
#[derive(Clone)]
pub struct Doc {
    pub tag: &'static str,
    pub summary: &'static str,
    pub public: bool,
    pub body: Option<Value>,
    pub query: Vec<(&'static str, &'static str, &'static str)>,
    pub status: u16,
}

impl Doc {
    /// A route in group `tag` that needs a session.
    pub fn new(tag: &'static str, summary: &'static str) -> Doc {
        Doc {
            tag,
            summary,
            public: false,
            body: None,
            query: Vec::new(),
            status: 200,
        }
    }

    /// Needs no session.
    pub fn public(mut self) -> Doc {
        self.public = true;
        self
    }

    /// The JSON body: an object schema with these properties (`name: type`, `name?` optional).
    pub fn body(mut self, props: &[(&str, &str)]) -> Doc {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for (name, ty) in props {
            let (name, optional) = match name.strip_suffix('?') {
                Some(n) => (n, true),
                None => (*name, false),
            };
            properties.insert(name.to_owned(), type_schema(ty));
            if !optional {
                required.push(Value::String(name.to_owned()));
            }
        }
        self.body = Some(
            json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false}),
        );
        self
    }

    /// A raw (non-JSON-object) body with this media type.
    pub fn raw_body(mut self, media: &str) -> Doc {
        self.body = Some(json!({"x-media-type": media}));
        self
    }

    /// A query parameter: name, type, description.
    pub fn query(mut self, name: &'static str, ty: &'static str, description: &'static str) -> Doc {
        self.query.push((name, ty, description));
        self
    }

    /// Answers 201 Created.
    pub fn created(mut self) -> Doc {
        self.status = 201;
        self
    }
}

fn type_schema(ty: &str) -> Value {
    match ty {
        "string" | "integer" | "number" | "boolean" | "object" => json!({"type": ty}),
        "[integer]" => json!({"type": "array", "items": {"type": "integer"}}),
        "[string]" => json!({"type": "array", "items": {"type": "string"}}),
        "geometry" => json!({"type": "object", "description": "GeoJSON Polygon or MultiPolygon"}),
        other => json!({"type": "string", "description": other}),
    }
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
            let mut params: Vec<Value> = path
                .split('/')
                .filter_map(|seg| seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
                .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
                .collect();
            for (name, ty, description) in &doc.query {
                params.push(json!({"name": name, "in": "query", "required": false, "description": description, "schema": type_schema(ty)}));
            }
            let mut op = json!({
                "tags": [doc.tag],
                "summary": doc.summary,
                "operationId": format!("{method}_{}", path.trim_start_matches("/api/v1/").replace(['/', '{', '}'], "_").trim_end_matches('_')),
                "parameters": params,
                "responses": {
                    doc.status.to_string(): {"description": "success", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "4XX": {"description": "refused", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            });
            if !doc.public {
                op["security"] = json!([{"bearer": []}, {"cookie": []}]);
            }
            if let Some(body) = &doc.body {
                op["requestBody"] = match body.get("x-media-type").and_then(Value::as_str) {
                    Some(media) => {
                        json!({"required": true, "content": {media: {"schema": {"type": "string", "format": "binary"}}}})
                    }
                    None => {
                        json!({"required": true, "content": {"application/json": {"schema": body}}})
                    }
                };
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
                    "code": {"type": "string"}, "message": {"type": "string"}, "field": {"type": "string", "nullable": true}}}},
            },
        })
    }
}
