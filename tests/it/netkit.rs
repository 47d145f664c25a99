//! Hostile and real-world network pieces for the security tests, all on
//! 127.0.0.1, each on a small runtime of its own that stops when dropped:
//! a scripted HTTP server or proxy in front of the sandbox that records
//! what it receives ([`Stub`]), a TLS
//! front for the sandbox ([`TlsFront`]), a CONNECT proxy ([`Proxy`]), a
//! throwaway CA ([`Pki`]), and a port that refuses connections
//! ([`Refusing`]). Every server accepts a bounded number of
//! connections, reads bounded requests, and gives up on a silent peer.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;

/// Most connections a server accepts before it stops listening.
const MAX_CONNECTIONS: usize = 64;
/// Longest a server waits for a peer's bytes, or lets a hanging reply hang.
const PEER_TIMEOUT: Duration = Duration::from_secs(20);
/// Largest request head and body read.
const MAX_REQUEST: usize = 1024 * 1024;

/// A runtime of one worker, shut down (tasks and all) on drop.
struct Bg(Option<tokio::runtime::Runtime>);

impl Bg {
    fn new() -> Bg {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        Bg(Some(rt))
    }

    fn rt(&self) -> &tokio::runtime::Runtime {
        self.0.as_ref().unwrap()
    }

    /// Binds 127.0.0.1 on a free port (usable from sync and async tests).
    fn bind(&self) -> (TcpListener, SocketAddr) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let _entered = self.rt().enter();
        (TcpListener::from_std(listener).unwrap(), addr)
    }
}

impl Drop for Bg {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// A loopback port that refuses every connection for as long as this
/// lives: a socket bound to it that never listens. Holding the port, it
/// cannot race (a listener bound, then dropped, frees a port any other
/// socket may take before the test connects), and no client socket is
/// given it as its own port (which could connect to itself).
pub struct Refusing(tokio::net::TcpSocket);

impl Refusing {
    pub fn new() -> Refusing {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        Refusing(socket)
    }

    pub fn port(&self) -> u16 {
        self.0.local_addr().unwrap().port()
    }
}

/// One request as a server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The request line, e.g. `GET /v2.0/admin/webhook-subscriptions HTTP/1.1`.
    pub line: String,
    /// The whole head (request line and headers) as text.
    pub head: String,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn method(&self) -> &str {
        self.line.split(' ').next().unwrap_or_default()
    }

    pub fn path(&self) -> &str {
        self.line.split(' ').nth(1).unwrap_or_default()
    }

    /// A header's value (names compared case-insensitively).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }
}

/// What a [`Stub`] does with a request.
pub enum Reply {
    /// Writes these bytes, then closes the connection.
    Raw(Vec<u8>),
    /// Says nothing and keeps the connection open (until the client gives
    /// up or [`PEER_TIMEOUT`]).
    Hang,
    /// Writes these bytes, then hangs like [`Reply::Hang`].
    Stall(Vec<u8>),
    /// Writes `head`, then `count` copies of `chunk`, then closes.
    Stream {
        head: String,
        chunk: Vec<u8>,
        count: usize,
    },
}

/// A complete response with `content-length` and `connection: close`.
pub fn response(status: &str, content_type: &str, body: impl AsRef<[u8]>) -> Reply {
    let body = body.as_ref();
    let mut bytes = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    bytes.extend_from_slice(body);
    Reply::Raw(bytes)
}

/// A JSON response.
pub fn json(status: &str, body: impl AsRef<[u8]>) -> Reply {
    response(status, "application/json", body)
}

/// A scripted HTTP/1.1 server, one request per connection, every request
/// recorded: answered by a handler ([`Stub::start`]), or a proxy in front
/// of a backend that forwards, answers in its place, or both, as its
/// router says ([`Stub::relay`]).
pub struct Stub {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Recorded>>>,
    _bg: Bg,
}

impl Stub {
    pub fn start(handler: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) -> Stub {
        Stub::serve(None, move |r| Route::Answer(handler(r)))
    }

    /// A proxy in front of `backend` (the sandbox).
    pub fn relay(backend: SocketAddr, router: impl Fn(&Recorded) -> Route + Send + Sync + 'static) -> Stub {
        Stub::serve(Some(backend), router)
    }

    fn serve(
        backend: Option<SocketAddr>,
        router: impl Fn(&Recorded) -> Route + Send + Sync + 'static,
    ) -> Stub {
        let bg = Bg::new();
        let (listener, addr) = bg.bind();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let router: Arc<Router> = Arc::new(router);
        let log = Arc::clone(&seen);
        bg.rt().spawn(async move {
            for _ in 0..MAX_CONNECTIONS {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let (log, router) = (Arc::clone(&log), Arc::clone(&router));
                tokio::spawn(tokio::time::timeout(PEER_TIMEOUT, async move {
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    log.lock().unwrap().push(request.clone());
                    let reply = match (router(&request), backend) {
                        (Route::Answer(reply), _) => reply,
                        (_, None) => relayed(None),
                        (Route::Forward, Some(to)) => relayed(forward(to, &request).await),
                        (Route::ForwardThen(reply), Some(to)) => {
                            forward(to, &request).await;
                            reply
                        }
                        (Route::Twice, Some(to)) => {
                            forward(to, &request).await;
                            relayed(forward(to, &request).await)
                        }
                    };
                    answer(&mut stream, reply).await;
                }));
            }
        });
        Stub { addr, seen, _bg: bg }
    }

    /// `http://ADDR/v2.0`, a base URL for `--base-url`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v2.0", self.addr)
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests of `method` were received.
    pub fn count(&self, method: &str) -> usize {
        self.requests().iter().filter(|r| r.method() == method).count()
    }
}

/// Writes `reply` on `stream` as [`Reply`] says.
async fn answer(stream: &mut TcpStream, reply: Reply) {
    match reply {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::Hang => hang(stream).await,
        Reply::Stall(bytes) => {
            if stream.write_all(&bytes).await.is_ok() {
                hang(stream).await;
            }
        }
        Reply::Stream { head, chunk, count } => {
            if stream.write_all(head.as_bytes()).await.is_err() {
                return;
            }
            for _ in 0..count {
                if stream.write_all(&chunk).await.is_err() {
                    return;
                }
            }
            let _ = stream.shutdown().await;
        }
    }
}

/// What a [`Stub`] does with one request (all but `Answer` need a backend).
pub enum Route {
    /// Forward it and relay the answer.
    Forward,
    /// Forward it, then answer this instead: a proxy that gave up on the
    /// backend after forwarding (its 502, 503 or 504).
    ForwardThen(Reply),
    /// Forward it twice, relay the second answer: another client sent the
    /// same request just before.
    Twice,
    /// Answer this without forwarding.
    Answer(Reply),
}

type Router = dyn Fn(&Recorded) -> Route + Send + Sync;

/// Sends `request` to `backend` on a connection of its own; the whole
/// response, or `None` if the backend could not be reached.
async fn forward(backend: SocketAddr, request: &Recorded) -> Option<Vec<u8>> {
    let mut stream = TcpStream::connect(backend).await.ok()?;
    let mut head: String = request
        .head
        .lines()
        .filter(|l| !l.is_empty() && !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    head.push_str("connection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).await.ok()?;
    stream.write_all(&request.body).await.ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.ok()?;
    Some(response)
}

/// The backend's answer as is, or a 502 when there was none.
fn relayed(response: Option<Vec<u8>>) -> Reply {
    response.map_or_else(
        || json("502 Bad Gateway", r#"{"message":"no backend","data":{}}"#),
        Reply::Raw,
    )
}

/// Holds the connection open without answering until the client closes
/// it (its timeout) or [`PEER_TIMEOUT`] ends the task.
async fn hang(stream: &mut TcpStream) {
    let mut sink = [0u8; 1024];
    while matches!(stream.read(&mut sink).await, Ok(n) if n > 0) {}
}

/// Reads a request head and its `content-length` body (bounded).
async fn read_request(stream: &mut (impl AsyncRead + Unpin)) -> Option<Recorded> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > MAX_REQUEST || stream.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let line = head.lines().next().unwrap_or_default().to_owned();
    let mut request = Recorded {
        line,
        head,
        body: Vec::new(),
    };
    let length: usize = request
        .header("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length.min(MAX_REQUEST)];
    stream.read_exact(&mut body).await.ok()?;
    request.body = body;
    Some(request)
}

/// A throwaway certificate authority and a server certificate it signed.
pub struct Pki {
    /// The CA certificate, PEM: what `--ca-cert` is given.
    pub ca_pem: String,
    cert: rustls::pki_types::CertificateDer<'static>,
    key: Vec<u8>,
}

impl Pki {
    /// A CA and a server certificate for `names` (DNS names or IPs).
    pub fn new(names: &[&str]) -> Pki {
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "invhooks test CA");
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params.key_usages = vec![
            rcgen::KeyUsagePurpose::KeyCertSign,
            rcgen::KeyUsagePurpose::CrlSign,
            rcgen::KeyUsagePurpose::DigitalSignature,
        ];
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let server_key = rcgen::KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let server = rcgen::CertificateParams::new(names)
            .unwrap()
            .signed_by(&server_key, &*ca)
            .unwrap();
        Pki {
            ca_pem: ca.pem(),
            cert: server.der().clone(),
            key: server_key.serialize_der(),
        }
    }

    fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(self.key.clone().into());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], key)
            .unwrap();
        Arc::new(config)
    }
}

/// HTTPS in front of a plain-HTTP backend (the sandbox): terminates TLS
/// with the [`Pki`]'s server certificate and relays the bytes.
pub struct TlsFront {
    addr: SocketAddr,
    handshakes: Arc<Mutex<usize>>,
    _bg: Bg,
}

impl TlsFront {
    pub fn start(pki: &Pki, backend: SocketAddr) -> TlsFront {
        let bg = Bg::new();
        let (listener, addr) = bg.bind();
        let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config());
        let handshakes = Arc::new(Mutex::new(0));
        let count = Arc::clone(&handshakes);
        bg.rt().spawn(async move {
            for _ in 0..MAX_CONNECTIONS {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, count) = (acceptor.clone(), Arc::clone(&count));
                tokio::spawn(tokio::time::timeout(PEER_TIMEOUT, async move {
                    let Ok(mut tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    *count.lock().unwrap() += 1;
                    let Ok(mut back) = TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut back).await;
                }));
            }
        });
        TlsFront {
            addr,
            handshakes,
            _bg: bg,
        }
    }

    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// TLS handshakes that completed (a client that refused the
    /// certificate does not complete one).
    pub fn handshakes(&self) -> usize {
        *self.handshakes.lock().unwrap()
    }
}

/// An HTTP proxy: `CONNECT` requests are recorded and tunnelled to `target`
/// whatever host they name; any other request is recorded and refused
/// with 502 (so a test sees what a client would have sent in clear text).
pub struct Proxy {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Recorded>>>,
    _bg: Bg,
}

impl Proxy {
    pub fn start(target: SocketAddr) -> Proxy {
        let bg = Bg::new();
        let (listener, addr) = bg.bind();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        bg.rt().spawn(async move {
            for _ in 0..MAX_CONNECTIONS {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let log = Arc::clone(&log);
                tokio::spawn(tokio::time::timeout(PEER_TIMEOUT, async move {
                    let Some(request) = read_request(&mut stream).await else {
                        return;
                    };
                    log.lock().unwrap().push(request.clone());
                    if request.method() != "CONNECT" {
                        let refusal =
                            b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
                        let _ = stream.write_all(refusal).await;
                        return;
                    }
                    let Ok(mut upstream) = TcpStream::connect(target).await else {
                        return;
                    };
                    let established = b"HTTP/1.1 200 Connection established\r\n\r\n";
                    if stream.write_all(established).await.is_ok() {
                        let _ = tokio::io::copy_bidirectional(&mut stream, &mut upstream).await;
                    }
                }));
            }
        });
        Proxy { addr, seen, _bg: bg }
    }

    /// `http://ADDR`, for `HTTPS_PROXY` / `HTTP_PROXY`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.seen.lock().unwrap().clone()
    }
}
