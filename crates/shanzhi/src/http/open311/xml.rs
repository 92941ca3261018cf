//! The GeoReport response tree and its two renderings: XML (written here, escaping every text
//! node) and JSON by the Spark convention, where a list element becomes a JSON array of its
//! items and everything else maps name for name.

use serde_json::{Map, Value};

/// One value of a GeoReport response.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    /// Text, escaped on output.
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    /// An absent value: `<name/>` in XML, `null` in JSON.
    Null,
    /// Named fields, in order.
    Obj(Vec<(&'static str, Node)>),
    /// A list whose items are elements named by the first field (`<services><service>…`).
    List(&'static str, Vec<Node>),
}

impl Node {
    /// Text, or `Null` when absent.
    pub fn opt(v: Option<impl Into<String>>) -> Node {
        match v {
            Some(s) => Node::Text(s.into()),
            None => Node::Null,
        }
    }

    /// Text from anything displayable.
    pub fn text(v: impl Into<String>) -> Node {
        Node::Text(v.into())
    }

    /// The JSON rendering.
    pub fn to_json(&self) -> Value {
        match self {
            Node::Text(s) => Value::String(s.clone()),
            Node::Int(i) => Value::from(*i),
            Node::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Node::Bool(b) => Value::Bool(*b),
            Node::Null => Value::Null,
            Node::Obj(fields) => {
                let mut m = Map::new();
                for (k, v) in fields {
                    m.insert((*k).to_owned(), v.to_json());
                }
                Value::Object(m)
            }
            Node::List(_, items) => Value::Array(items.iter().map(Node::to_json).collect()),
        }
    }

    /// The XML document with `root` as its root element, declaration included.
    pub fn to_xml(&self, root: &str) -> String {
        let mut w = Writer {
            out: String::with_capacity(256),
        };
        w.out
            .push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
        w.element(root, self, 0);
        w.out
    }
}

struct Writer {
    out: String,
}

impl Writer {
    fn indent(&mut self, depth: usize) {
        for _ in 0..depth {
            self.out.push_str("  ");
        }
    }

    fn element(&mut self, name: &str, v: &Node, depth: usize) {
        self.indent(depth);
        match v {
            Node::Null => {
                self.out.push('<');
                self.out.push_str(name);
                self.out.push_str("/>\n");
            }
            Node::Obj(fields) => {
                self.open(name);
                self.out.push('\n');
                for (k, child) in fields {
                    self.element(k, child, depth + 1);
                }
                self.indent(depth);
                self.close(name);
            }
            Node::List(item, items) => {
                self.open(name);
                self.out.push('\n');
                for child in items {
                    self.element(item, child, depth + 1);
                }
                self.indent(depth);
                self.close(name);
            }
            scalar => {
                self.open(name);
                match scalar {
                    Node::Text(s) => escape_into(&mut self.out, s),
                    Node::Int(i) => self.out.push_str(&i.to_string()),
                    Node::Float(f) => self.out.push_str(&f.to_string()),
                    Node::Bool(b) => self.out.push_str(if *b { "true" } else { "false" }),
                    _ => {}
                }
                self.close(name);
            }
        }
    }

    fn open(&mut self, name: &str) {
        self.out.push('<');
        self.out.push_str(name);
        self.out.push('>');
    }

    fn close(&mut self, name: &str) {
        self.out.push_str("</");
        self.out.push_str(name);
        self.out.push_str(">\n");
    }
}

/// Appends `s` as XML character data: markup characters escaped, a carriage return as `&#13;`
/// (a parser turns a raw CR or CR LF into LF, so only the reference brings it back, as JSON
/// does), and characters XML 1.0 cannot carry at all (control characters other than tab and
/// line breaks, U+FFFE, U+FFFF) replaced by U+FFFD, so that no input can make the document
/// ill-formed.
pub fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\r' => out.push_str("&#13;"),
            '\t' | '\n' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_unrepresentable_characters_are_replaced() {
        let mut s = String::new();
        escape_into(&mut s, "a<b>&\"c'\u{1}\u{FFFF}\r\n\t暴露垃圾\r");
        assert_eq!(
            s,
            "a&lt;b&gt;&amp;&quot;c&apos;\u{FFFD}\u{FFFD}&#13;\n\t暴露垃圾&#13;"
        );
    }

    #[test]
    fn lists_render_as_repeated_elements_and_json_arrays() {
        let doc = Node::List(
            "service",
            vec![Node::Obj(vec![
                ("service_code", Node::text("gas")),
                ("metadata", Node::Bool(true)),
                ("group", Node::Null),
            ])],
        );
        let xml = doc.to_xml("services");
        assert!(
            xml.starts_with(
                "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<services>\n  <service>\n"
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<service_code>gas</service_code>")
                && xml.contains("<metadata>true</metadata>")
                && xml.contains("<group/>")
        );
        assert_eq!(
            doc.to_json(),
            serde_json::json!([{"service_code": "gas", "metadata": true, "group": null}])
        );
    }
}
