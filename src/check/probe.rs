//! The network edge of `check`: DNS, TCP, TLS (verified against the
//! webpki roots plus `--ca-cert`), then one HTTP/1.1 exchange, each step
//! bounded by the timeout. [`Prober::post`] is also how the sandbox
//! delivers events: the one way invhooks POSTs a delivery. Only the request line, `Host`, a `User-Agent`
//! and (for a test event) the JSON body are sent: never a key, never the
//! URL's userinfo, no proxy, no redirect followed.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::rustls::{self, pki_types};
use url::Url;

use super::{judge, Failure, Step};
use crate::callback_url::CallbackUrl;

/// Largest status line read before giving up on an answer.
const MAX_STATUS_LINE: usize = 8 * 1024;

/// Probes callback URLs; cheap to clone, shared by concurrent probes.
#[derive(Debug, Clone)]
pub struct Prober {
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

/// A request to make once connected.
struct Request<'a> {
    method: &'a str,
    body: Option<&'a [u8]>,
}

impl Prober {
    /// A prober trusting the webpki roots (the ones the API client trusts)
    /// plus `extra_roots` (DER), each step bounded by `timeout`.
    ///
    /// # Errors
    ///
    /// An extra root that is not a usable CA certificate.
    pub fn new(
        extra_roots: Vec<pki_types::CertificateDer<'static>>,
        timeout: Duration,
    ) -> anyhow::Result<Self> {
        let mut roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        for (i, cert) in extra_roots.into_iter().enumerate() {
            roots
                .add(cert)
                .map_err(|e| anyhow::anyhow!("certificate {} is not usable: {e}", i + 1))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Self {
            tls: Arc::new(config),
            timeout,
        })
    }

    /// Probes `url`: the HTTP status of a `HEAD` (a `GET` if the receiver
    /// does not implement `HEAD`, 501), judged by [`super::reachable`], or
    /// the first failing step; and how long it took.
    pub async fn probe(&self, url: &str) -> (Result<u16, Failure>, Duration) {
        let start = Instant::now();
        let mut result = self
            .exchange(
                url,
                Request {
                    method: "HEAD",
                    body: None,
                },
            )
            .await;
        if matches!(result, Ok(501)) {
            result = self
                .exchange(
                    url,
                    Request {
                        method: "GET",
                        body: None,
                    },
                )
                .await;
        }
        (result.and_then(judge), start.elapsed())
    }

    /// POSTs `body` (JSON) to `url`; the receiver's status, or the step
    /// that failed.
    pub async fn post(&self, url: &str, body: &[u8]) -> Result<u16, Failure> {
        self.exchange(
            url,
            Request {
                method: "POST",
                body: Some(body),
            },
        )
        .await
    }

    async fn exchange(&self, url: &str, request: Request<'_>) -> Result<u16, Failure> {
        // The one reading of a callback URL (SPEC "Safety by construction"):
        // as deliveries read it, so a live URL that validation would refuse
        // still goes where plans show it goes (declared ones are strict already).
        let parsed = CallbackUrl::read(url).ok_or_else(|| Failure::new(Step::Dns, "not a valid URL"))?;
        let url = parsed.url();
        let host = url
            .host_str()
            .ok_or_else(|| Failure::new(Step::Dns, "the URL has no host"))?
            .to_owned();
        let port = url
            .port_or_known_default()
            .ok_or_else(|| Failure::new(Step::Dns, format!("no port for scheme `{}`", url.scheme())))?;
        let addrs = self.resolve(url, port).await?;
        let tcp = self.connect(&addrs).await?;
        let head = head(url, &request);
        match url.scheme() {
            "https" => {
                let tls = self.handshake(url, &host, tcp).await?;
                self.send(tls, &head, request.body).await
            }
            "http" => self.send(tcp, &head, request.body).await,
            other => Err(Failure::new(Step::Tcp, format!("unsupported scheme `{other}`"))),
        }
    }

    async fn resolve(&self, url: &Url, port: u16) -> Result<Vec<SocketAddr>, Failure> {
        let lookup = match url.host() {
            Some(url::Host::Ipv4(ip)) => return Ok(vec![SocketAddr::from((ip, port))]),
            Some(url::Host::Ipv6(ip)) => return Ok(vec![SocketAddr::from((ip, port))]),
            Some(url::Host::Domain(name)) => tokio::net::lookup_host((name.to_owned(), port)),
            None => return Err(Failure::new(Step::Dns, "the URL has no host")),
        };
        match tokio::time::timeout(self.timeout, lookup).await {
            Err(_) => Err(timed_out(Step::Dns, self.timeout)),
            Ok(Err(e)) => Err(Failure::new(Step::Dns, dns_message(&e))),
            Ok(Ok(addrs)) => {
                let addrs: Vec<_> = addrs.collect();
                if addrs.is_empty() {
                    Err(Failure::new(Step::Dns, "no such host"))
                } else {
                    Ok(addrs)
                }
            }
        }
    }

    async fn connect(&self, addrs: &[SocketAddr]) -> Result<TcpStream, Failure> {
        let mut last = Failure::new(Step::Tcp, "no address to connect to");
        for addr in addrs {
            match tokio::time::timeout(self.timeout, TcpStream::connect(addr)).await {
                Ok(Ok(stream)) => return Ok(stream),
                Ok(Err(e)) => last = Failure::new(Step::Tcp, io_message(&e)),
                Err(_) => last = timed_out(Step::Tcp, self.timeout),
            }
        }
        Err(last)
    }

    async fn handshake(
        &self,
        url: &Url,
        host: &str,
        tcp: TcpStream,
    ) -> Result<tokio_rustls::client::TlsStream<TcpStream>, Failure> {
        let name = match url.host() {
            Some(url::Host::Ipv4(ip)) => pki_types::ServerName::from(std::net::IpAddr::from(ip)),
            Some(url::Host::Ipv6(ip)) => pki_types::ServerName::from(std::net::IpAddr::from(ip)),
            _ => pki_types::ServerName::try_from(host.to_owned())
                .map_err(|e| Failure::new(Step::Tls, format!("`{host}` is not a valid server name ({e})")))?,
        };
        match tokio::time::timeout(
            self.timeout,
            tokio_rustls::TlsConnector::from(Arc::clone(&self.tls)).connect(name, tcp),
        )
        .await
        {
            Err(_) => Err(timed_out(Step::Tls, self.timeout)),
            Ok(Err(e)) => Err(Failure::new(Step::Tls, tls_message(&e))),
            Ok(Ok(stream)) => Ok(stream),
        }
    }

    async fn send(
        &self,
        mut stream: impl AsyncRead + AsyncWrite + Unpin,
        head: &str,
        body: Option<&[u8]>,
    ) -> Result<u16, Failure> {
        let exchange = async {
            stream.write_all(head.as_bytes()).await?;
            if let Some(body) = body {
                stream.write_all(body).await?;
            }
            stream.flush().await?;
            read_status(&mut stream).await
        };
        match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => Err(timed_out(Step::Http, self.timeout)),
            Ok(Err(e)) => Err(Failure::new(Step::Http, io_message(&e))),
            Ok(Ok(status)) => Ok(status),
        }
    }
}

/// The request head: request line, `Host`, `User-Agent`, and for a body
/// its type and length. Userinfo in the URL is never sent.
fn head(url: &Url, request: &Request<'_>) -> String {
    let target = &url[url::Position::BeforePath..url::Position::AfterQuery];
    let target = if target.is_empty() { "/" } else { target };
    let host = &url[url::Position::BeforeHost..url::Position::AfterPort];
    let mut head = format!(
        "{} {target} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: invhooks/{} (check)\r\nConnection: close\r\n",
        request.method,
        env!("CARGO_PKG_VERSION")
    );
    if let Some(body) = request.body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        ));
    }
    head.push_str("\r\n");
    head
}

/// Reads up to the end of the status line and parses its code.
async fn read_status(stream: &mut (impl AsyncRead + Unpin)) -> io::Result<u16> {
    let mut line = Vec::new();
    let mut buf = [0u8; 512];
    while !line.contains(&b'\n') {
        if line.len() > MAX_STATUS_LINE {
            return Err(io::Error::other("the answer's status line is too long"));
        }
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::other("connection closed without an answer"));
        }
        line.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&line);
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next().and_then(|c| c.parse::<u16>().ok())) {
        (Some(v), Some(code)) if v.starts_with("HTTP/") && (100..600).contains(&code) => Ok(code),
        _ => Err(io::Error::other("the answer is not HTTP")),
    }
}

fn timed_out(step: Step, timeout: Duration) -> Failure {
    Failure::new(step, format!("timed out after {} s", timeout.as_secs()))
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
        "Name has no usable address",
    ];
    if gone.iter().any(|g| text.contains(g)) {
        "no such host".to_owned()
    } else {
        lowercase_first(&text)
    }
}

/// What a failed handshake means, in words: expired (and since when),
/// untrusted, or for another name.
fn tls_message(e: &io::Error) -> String {
    use rustls::CertificateError as C;
    let Some(err) = e
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    else {
        return io_message(e);
    };
    match err {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::ExpiredContext { time, not_after } => {
                let days = time.as_secs().saturating_sub(not_after.as_secs()) / 86_400;
                match days {
                    0 => "certificate expired less than a day ago".to_owned(),
                    1 => "certificate expired 1 day ago".to_owned(),
                    n => format!("certificate expired {n} days ago"),
                }
            }
            C::Expired => "certificate expired".to_owned(),
            C::NotValidYet | C::NotValidYetContext { .. } => "certificate is not valid yet".to_owned(),
            C::UnknownIssuer => {
                "certificate not trusted (unknown issuer; a private CA can be passed with --ca-cert)"
                    .to_owned()
            }
            C::NotValidForNameContext { presented, .. } => {
                format!(
                    "certificate is not valid for this host (it names {})",
                    presented.join(", ")
                )
            }
            C::NotValidForName => "certificate is not valid for this host".to_owned(),
            other => lowercase_first(&format!("certificate rejected: {other:?}")),
        },
        other => lowercase_first(&other.to_string()),
    }
}

fn lowercase_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_request_carries_no_userinfo_and_only_the_path_and_query() {
        let url = Url::parse("https://user:pw@hooks.acme.dev:8443/in?x=1#frag").expect("a URL");
        let text = head(
            &url,
            &Request {
                method: "HEAD",
                body: None,
            },
        );
        assert!(
            text.starts_with("HEAD /in?x=1 HTTP/1.1\r\nHost: hooks.acme.dev:8443\r\n"),
            "{text}"
        );
        assert!(
            !text.contains("user") && !text.contains("pw") && !text.contains("frag"),
            "{text}"
        );
        let text = head(
            &url,
            &Request {
                method: "POST",
                body: Some(b"{}"),
            },
        );
        assert!(text.contains("Content-Length: 2\r\n"), "{text}");
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
