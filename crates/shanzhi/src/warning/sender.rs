//! The senders the outbox hands messages to: SMTP e-mail (lettre) and an SMS gateway's HTTP
//! webhook (hyper's HTTP/1 client). A sender says whether a message went; the outbox decides
//! when to try again. Neither logs an address, and their errors carry none.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use lettre::message::header::ContentType;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use crate::config::WarningSettings;

/// How long one send may take before it counts as failed (well under the outbox lease).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// One message to one person.
pub struct Message {
    /// The outbox row: the receiver's deduplication key.
    pub delivery_id: i64,
    /// An e-mail address or a phone number. Personal data: hidden from `Debug`.
    pub to: String,
    pub subject: String,
    pub body: String,
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("delivery_id", &self.delivery_id)
            .field("to", &"***")
            .field("subject", &self.subject)
            .finish()
    }
}

/// Why a message did not go (no personal data in it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendError(pub String);

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The future a sender answers.
pub type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), SendError>> + Send + 'a>>;

/// A way out of the building for one channel.
pub trait Sender: Send + Sync + 'static {
    /// The outbox channel it serves (`email`, `sms`).
    fn channel(&self) -> &'static str;
    /// Sends one message; Ok only when the other side accepted it.
    fn send<'a>(&'a self, m: &'a Message) -> Sending<'a>;
}

/// Replaces the recipient's address wherever an error text repeats it.
fn scrub(text: String, to: &str) -> String {
    if to.is_empty() {
        text
    } else {
        text.replace(to, "***")
    }
}

/// E-mail through an SMTP relay (plain SMTP: an intranet relay; no TLS stack in the binary).
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: lettre::message::Mailbox,
}

impl Smtp {
    /// A sender for `host:port` with the From address `from`.
    pub fn new(host: &str, port: u16, from: &str) -> anyhow::Result<Smtp> {
        let from = from
            .parse()
            .map_err(|e| anyhow::anyhow!("smtp_from '{from}' is not an address: {e}"))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host)
            .port(port)
            .timeout(Some(SEND_TIMEOUT))
            .build();
        Ok(Smtp { transport, from })
    }
}

impl Sender for Smtp {
    fn channel(&self) -> &'static str {
        "email"
    }

    fn send<'a>(&'a self, m: &'a Message) -> Sending<'a> {
        Box::pin(async move {
            let to =
                m.to.parse()
                    .map_err(|_| SendError("the stored e-mail address is not valid".into()))?;
            let mail = lettre::Message::builder()
                .from(self.from.clone())
                .to(to)
                // The delivery row in the Message-ID: a receiver can drop a repeated one.
                .message_id(Some(format!(
                    "<warning-delivery-{}@shanzhi>",
                    m.delivery_id
                )))
                .subject(m.subject.clone())
                .header(ContentType::TEXT_PLAIN)
                .body(m.body.clone())
                .map_err(|e| SendError(scrub(format!("building the e-mail: {e}"), &m.to)))?;
            match tokio::time::timeout(SEND_TIMEOUT, self.transport.send(mail)).await {
                Ok(Ok(_)) => Ok(()),
                Ok(Err(e)) => Err(SendError(scrub(format!("smtp: {e}"), &m.to))),
                Err(_) => Err(SendError("smtp: timed out".into())),
            }
        })
    }
}

/// SMS through a gateway's webhook: `POST url` with `{"id", "to", "text"}` as JSON and the
/// header `Idempotency-Key: <outbox row id>`; any 2xx answer means accepted.
pub struct Webhook {
    uri: hyper::Uri,
    host: String,
    port: u16,
}

impl Webhook {
    /// A sender posting to `url` (`http://host[:port]/path`).
    pub fn new(url: &str) -> anyhow::Result<Webhook> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|_| anyhow::anyhow!("sms_webhook_url is not a URL"))?;
        anyhow::ensure!(
            uri.scheme_str() == Some("http"),
            "sms_webhook_url must be http://"
        );
        let host = uri
            .host()
            .ok_or_else(|| anyhow::anyhow!("sms_webhook_url has no host"))?
            .trim_matches(['[', ']'])
            .to_owned();
        let port = uri.port_u16().unwrap_or(80);
        Ok(Webhook { uri, host, port })
    }

    async fn post(&self, m: &Message) -> Result<(), SendError> {
        let body = serde_json::json!({"id": m.delivery_id, "to": m.to, "text": m.body});
        let stream = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| SendError(format!("webhook: cannot connect: {}", e.kind())))?;
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .map_err(|e| SendError(format!("webhook: {e}")))?;
        let connection = tokio::spawn(conn);
        let path = self.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
        let authority = self
            .uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_else(|| self.host.clone());
        let req = hyper::Request::post(path)
            .header(hyper::header::HOST, authority)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", m.delivery_id.to_string())
            .body(Full::new(Bytes::from(body.to_string())))
            .map_err(|e| SendError(format!("webhook: {e}")))?;
        let result = async {
            let resp = sender
                .send_request(req)
                .await
                .map_err(|e| SendError(format!("webhook: {e}")))?;
            let status = resp.status();
            // Read the answer to its end so the connection closes cleanly; its text is not kept.
            let _ = resp.into_body().collect().await;
            if status.is_success() {
                Ok(())
            } else {
                Err(SendError(format!("webhook: the gateway answered {status}")))
            }
        }
        .await;
        connection.abort();
        result
    }
}

impl Sender for Webhook {
    fn channel(&self) -> &'static str {
        "sms"
    }

    fn send<'a>(&'a self, m: &'a Message) -> Sending<'a> {
        Box::pin(async move {
            match tokio::time::timeout(SEND_TIMEOUT, self.post(m)).await {
                Ok(r) => r.map_err(|e| SendError(scrub(e.0, &m.to))),
                Err(_) => Err(SendError("webhook: timed out".into())),
            }
        })
    }
}

/// The senders the settings configure (a channel left out is not sent).
pub fn from_settings(w: &WarningSettings) -> anyhow::Result<Vec<std::sync::Arc<dyn Sender>>> {
    let mut out: Vec<std::sync::Arc<dyn Sender>> = Vec::new();
    if let Some(host) = &w.smtp_host {
        out.push(std::sync::Arc::new(Smtp::new(
            host,
            w.smtp_port,
            &w.smtp_from,
        )?));
    }
    if let Some(url) = &w.sms_webhook_url {
        out.push(std::sync::Arc::new(Webhook::new(url)?));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_hides_its_address_in_debug() {
        let m = Message {
            delivery_id: 7,
            to: "13800138000".into(),
            subject: "s".into(),
            body: "b".into(),
        };
        let shown = format!("{m:?}");
        assert!(!shown.contains("13800138000"), "{shown}");
        assert_eq!(
            scrub("550 no such user 13800138000".into(), &m.to),
            "550 no such user ***"
        );
    }
}
