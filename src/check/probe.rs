//! The network edge of `check`: DNS, TCP, TLS, one HTTP/1.1 exchange, each
//! bounded by the timeout; [`Prober::post`] is the one way to POST a delivery.
//! Only the request line, `Host`, `User-Agent` and a test event's body are
//! sent (never a key or userinfo); no proxy, no redirect.

use std::future::Future;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls::{self, pki_types};
use url::Url;

use super::{judge, Step, StepFailure};
use crate::callback_url::CallbackUrl;

/// Largest status line read before giving up on an answer.
const MAX_STATUS_LINE: u64 = 8 * 1024;

/// Probes callback URLs; cheap to clone, shared by concurrent probes.
#[derive(Debug, Clone)]
pub struct Prober {
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl Prober {
    /// Trusts the webpki roots plus `extra` (`Context::ca_roots`).
    pub fn new(extra: Vec<pki_types::CertificateDer<'static>>, timeout: Duration) -> anyhow::Result<Self> {
        let roots = webpki_roots::TLS_SERVER_ROOTS.to_vec();
        let mut roots = rustls::RootCertStore { roots };
        roots.add_parsable_certificates(extra);
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let tls = Arc::new(config);
        Ok(Self { tls, timeout })
    }

    /// `HEAD` (a `GET` after a 501): the [`judge`]d status, and how long.
    pub async fn probe(&self, url: &str) -> (Result<u16, StepFailure>, Duration) {
        let start = Instant::now();
        let mut result = self.exchange(url, "HEAD", None).await;
        if matches!(result, Ok(501)) {
            result = self.exchange(url, "GET", None).await;
        }
        (result.and_then(judge), start.elapsed())
    }

    /// POSTs `body` (JSON) to `url`: the receiver's status, or the failing step.
    pub async fn post(&self, url: &str, body: &[u8]) -> Result<u16, StepFailure> {
        self.exchange(url, "POST", Some(body)).await
    }

    async fn exchange(&self, url: &str, method: &str, body: Option<&[u8]>) -> Result<u16, StepFailure> {
        let dns = |message: String| StepFailure::At(Step::Dns, message);
        // The one reading of a callback URL (SPEC "Safety by construction"),
        // as deliveries read it: a live URL goes where plans show it goes.
        let parsed = CallbackUrl::read(url).ok_or_else(|| dns("not a valid URL".into()))?;
        let host = parsed.host().ok_or_else(|| dns("the URL has no host".into()))?;
        let (url, scheme) = (parsed.url(), parsed.url().scheme());
        let no_port = || dns(format!("no port for scheme `{scheme}`"));
        let port = url.port_or_known_default().ok_or_else(no_port)?;
        // An IP address is read as one, without a lookup.
        let lookup = tokio::net::lookup_host((host.as_str(), port));
        let addrs: Vec<_> = self.bounded(Step::Dns, lookup, dns_message).await?.collect();
        if addrs.is_empty() {
            return Err(dns("no such host".into()));
        }
        // Each address in turn, the first that answers.
        let connect = TcpStream::connect(&addrs[..]);
        let tcp = self.bounded(Step::Tcp, connect, io_message).await?;
        let request = request(url, method, body);
        match scheme {
            "https" => {
                // An IP address is checked as one, a name as a DNS name.
                let name = pki_types::ServerName::try_from(host.clone()).map_err(|e| {
                    StepFailure::At(Step::Tls, format!("`{host}` is not a valid server name ({e})"))
                })?;
                let connect = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls)).connect(name, tcp);
                let tls = self.bounded(Step::Tls, connect, tls_message).await?;
                self.send(tls, &request).await
            }
            "http" => self.send(tcp, &request).await,
            other => Err(StepFailure::At(
                Step::Tcp,
                format!("unsupported scheme `{other}`"),
            )),
        }
    }

    /// `step` within the timeout, its error said by `say`.
    async fn bounded<T>(
        &self,
        step: Step,
        work: impl Future<Output = io::Result<T>>,
        say: fn(&io::Error) -> String,
    ) -> Result<T, StepFailure> {
        let secs = self.timeout.as_secs();
        match tokio::time::timeout(self.timeout, work).await {
            Err(_) => Err(StepFailure::At(step, format!("timed out after {secs} s"))),
            Ok(result) => result.map_err(|e| StepFailure::At(step, say(&e))),
        }
    }

    async fn send(
        &self,
        mut stream: impl AsyncRead + AsyncWrite + Unpin,
        request: &[u8],
    ) -> Result<u16, StepFailure> {
        let exchange = async {
            stream.write_all(request).await?;
            stream.flush().await?;
            read_status(&mut stream).await
        };
        self.bounded(Step::Http, exchange, io_message).await
    }
}

/// The request line, `Host`, `User-Agent`, a body's type and length, the body.
fn request(url: &Url, method: &str, body: Option<&[u8]>) -> Vec<u8> {
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let target = if target.is_empty() { "/" } else { target };
    let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
    let version = env!("CARGO_PKG_VERSION");
    let length = body.map(<[u8]>::len);
    let typed = length.map(|n| format!("Content-Type: application/json\r\nContent-Length: {n}\r\n"));
    let typed = typed.unwrap_or_default();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: invhooks/{version} (check)\r\nConnection: close\r\n{typed}\r\n"
    );
    [head.as_bytes(), body.unwrap_or_default()].concat()
}

/// Reads the status line (at most [`MAX_STATUS_LINE`] bytes) and parses its code.
async fn read_status(stream: &mut (impl AsyncRead + Unpin)) -> io::Result<u16> {
    let mut line = Vec::new();
    BufReader::new(stream.take(MAX_STATUS_LINE))
        .read_until(b'\n', &mut line)
        .await?;
    match (line.last(), line.len() as u64) {
        (Some(b'\n'), _) => {}
        (_, MAX_STATUS_LINE) => return Err(io::Error::other("the answer's status line is too long")),
        _ => return Err(io::Error::other("connection closed without an answer")),
    }
    let text = String::from_utf8_lossy(&line);
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next().and_then(|c| c.parse::<u16>().ok())) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") && (100..600).contains(&code) => Ok(code),
        _ => Err(io::Error::other("the answer is not HTTP")),
    }
}

fn io_message(e: &io::Error) -> String {
    match e.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_owned(),
        io::ErrorKind::ConnectionReset => "connection reset".to_owned(),
        io::ErrorKind::TimedOut => "timed out".to_owned(),
        _ => lowercase_first(&e.to_string()),
    }
}

fn dns_message(e: &io::Error) -> String {
    let text = e.to_string();
    let gone = [
        "not known",
        "No address associated",
        "nodename nor servname",
        "no such host",
        "no usable address",
    ];
    match gone.iter().any(|g| text.contains(g)) {
        true => "no such host".to_owned(),
        false => lowercase_first(&text),
    }
}

/// What a failed handshake means: expired (since when), untrusted, another name.
fn tls_message(e: &io::Error) -> String {
    use rustls::CertificateError as C;
    let cert = match e.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>()) {
        None => return io_message(e),
        Some(rustls::Error::InvalidCertificate(cert)) => cert,
        Some(other) => return lowercase_first(&other.to_string()),
    };
    let days = |time: &pki_types::UnixTime, end: &pki_types::UnixTime| {
        time.as_secs().saturating_sub(end.as_secs()) / 86_400
    };
    match cert {
        C::ExpiredContext { time, not_after } => match days(time, not_after) {
            0 => "certificate expired less than a day ago".to_owned(),
            1 => "certificate expired 1 day ago".to_owned(),
            n => format!("certificate expired {n} days ago"),
        },
        C::Expired => "certificate expired".to_owned(),
        C::NotValidYet | C::NotValidYetContext { .. } => "certificate is not valid yet".to_owned(),
        C::UnknownIssuer => {
            "certificate not trusted (unknown issuer; a private CA can be passed with --ca-cert)".into()
        }
        C::NotValidForNameContext { presented, .. } => {
            let names = presented.join(", ");
            format!("certificate is not valid for this host (it names {names})")
        }
        C::NotValidForName => "certificate is not valid for this host".to_owned(),
        other => format!("certificate rejected: {other:?}"),
    }
}

fn lowercase_first(text: &str) -> String {
    let first = text.chars().next().map_or(0, char::len_utf8);
    text[..first].to_lowercase() + &text[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_carries_no_userinfo_and_only_the_path_and_query() {
        let url = Url::parse("https://user:pw@hooks.acme.dev:8443/in?x=1#frag").expect("a URL");
        let text = String::from_utf8(request(&url, "HEAD", None)).expect("text");
        assert!(
            text.starts_with("HEAD /in?x=1 HTTP/1.1\r\nHost: hooks.acme.dev:8443\r\n"),
            "{text}"
        );
        assert!(
            !text.contains("user") && !text.contains("pw") && !text.contains("frag"),
            "{text}"
        );
        let text = String::from_utf8(request(&url, "POST", Some(b"{}"))).expect("text");
        assert!(
            text.contains("Content-Length: 2\r\n") && text.ends_with("\r\n\r\n{}"),
            "{text}"
        );
    }

    #[test]
    fn handshake_failures_read_as_what_they_mean() {
        use rustls::CertificateError as C;
        let tls = |e: C| io::Error::new(io::ErrorKind::InvalidData, rustls::Error::InvalidCertificate(e));
        let day = 86_400;
        let expired = C::ExpiredContext {
            time: pki_types::UnixTime::since_unix_epoch(Duration::from_secs(10 * day)),
            not_after: pki_types::UnixTime::since_unix_epoch(Duration::from_secs(7 * day - 5)),
        };
        assert_eq!(tls_message(&tls(expired)), "certificate expired 3 days ago");
        assert!(tls_message(&tls(C::UnknownIssuer)).contains("--ca-cert"));
        let io = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(tls_message(&io), "connection refused");
    }
}
