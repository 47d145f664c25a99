//! The sandbox: a local, Inveterate-compatible server of the
//! webhook-subscriptions API, for the end-to-end tests, `invhooks demo` and
//! `invhooks sandbox`. It follows `inveterate-api.md`: one resource, the same
//! verbs, the `{"message", "data"}` envelope, the same status codes, and it
//! picks one documented behaviour wherever the real API is silent.
//!
//! # HTTP behaviour
//!
//! | request | response |
//! | --- | --- |
//! | `GET /v2.0/admin/webhook-subscriptions` | 200, `data = {"subscriptions": [...]}` sorted by id |
//! | `POST …` `{"topic","callbackUrl","name"}` | 201, `data` = the created subscription |
//! | `PUT …` `{"topic","id"}` + optional `callbackUrl`, `name` | 200, `data` = the updated subscription |
//! | `DELETE …` `{"topic","id"}` | 200, `data` = the deleted subscription |
//! | missing or unknown `X-Inveterate-Api-Key` | 400 `invalid API key` |
//! | invalid JSON, missing field, wrong type, empty string, unknown field | 400, every problem in `message` |
//! | unknown topic (POST), callback URL not absolute http(s) | 400 |
//! | a field holding an accepted API key | 400, the key not quoted |
//! | unknown id, or id whose topic differs (PUT, DELETE) | 400, "NO action was taken" |
//! | body over 1 MiB, body not sent within 30 s | 400 |
//! | any other method on the resource | 400 |
//! | any other path | 404 |
//! | `GET /_sandbox/stats` (no key) | 200 `{"requests":{"GET":n,"POST":n,"PUT":n,"DELETE":n,"total":n,"injected":{…}}}` |
//! | `POST /_sandbox/trigger` with the key, `{"topic", "payload"?}` | 202, `data = {"id", "topic", "subscriptions": [{"subscriptionId","callbackUrl"}]}`; deliveries start (below) |
//! | `GET /_sandbox/deliveries` (no key) | 200 `{"deliveries": [attempt…], "pending": n, "dropped": n}` |
//! | state file cannot be written | 500 (the change stays in memory, as a real 500 may) |
//! | an injected fault (see below) | 500, 429, a dropped connection, or a delay |
//!
//! Every response of the resource is the envelope with
//! `content-type: application/json`; error envelopes carry `data: {}`.
//! A subscription reads
//! `{"id","topic","callbackUrl","name","merchantId","createdAt","updatedAt"}`.
//! Choices where the real API is silent: `Content-Type` is not checked;
//! unknown body fields are rejected (so a client typo cannot pass silently);
//! (`topic`, `name`) pairs need not be unique; ids come from one counter
//! for the whole server, as [`Ids`] says: UUID-shaped and in no order,
//! drawn from the seed (`--ids random`, the default), or `wh_000001`,
//! `wh_000002`, … (`--ids sequential`, readable); `merchantId` is
//! `m_` and 16 hex digits of a labelled SHA-256 of the merchant's key
//! (the same for a key whatever the order of `--api-key`); timestamps come from a logical
//! clock (2024-01-01T00:00:00Z plus one second per write), never the system
//! clock. The sandbox logs nothing, and never stores or says a key: a
//! request field holding an accepted key is a 400, and every piece of
//! request text a message quotes (topic, id, field name, method, path) has
//! every accepted key scrubbed first (`keys`); callback URLs are never
//! quoted.
//!
//! The request counters ([`RequestStats`]) count every request to the
//! resource path, whatever its outcome, by method; `total` includes other
//! methods. `injected` ([`InjectedStats`]) counts the faults injected:
//! `{"errors","partial_failures","drops_before","drops_after","rate_limited",
//! "repeated_ids","cut_pages"}`.
//!
//! # Fault injection
//!
//! [`Faults`] (all off by default; `invhooks sandbox` flags in brackets)
//! makes the sandbox misbehave the ways a real API does, so clients can be
//! tested against them:
//!
//! | fault | what the client sees | what happened |
//! | --- | --- | --- |
//! | `latency` (`--latency MS`) | every request waits MS before it is handled | as usual |
//! | `error_rate` (`--error-rate P`) | 500 `{"message":"internal error (injected)","data":{}}` | nothing |
//! | `partial_failure_rate` (`--partial-failure-rate P`) | the same 500, for a POST, PUT or DELETE the store carried out | the write |
//! | `drop_rate` (`--drop-rate P`) | the connection closed without a response | nothing, or the write: half the drops are drawn before it, half after |
//! | `rate_limit` (`--rate-limit RPS`) | 429 with `Retry-After` (whole seconds, at least 1) and an envelope | nothing |
//! | `visibility_delay` (`--visibility-delay MS`) | a subscription created by POST appears in GET only MS later | the create, at once |
//! | `lying_list_rate` (`--lying-list-rate P`) | a GET's list with one id listed twice, or only its first part with a pagination hint (`total`, `hasMore`, `nextPage`, `pagination.nextCursor`) | nothing |
//!
//! - Every fate is drawn when the request arrives, from one random
//!   generator seeded with `seed` (`--seed N`, default 0): four draws per
//!   request in a fixed order, whatever is enabled, so the same seed and the
//!   same sequence of requests give the same faults. Concurrent requests
//!   draw in the order they arrive.
//! - The rate limit is a token bucket per server: `max(1, RPS)` tokens,
//!   refilled at RPS per second, full at start; every request to the
//!   resource takes one. A request without a token gets the 429 and nothing
//!   else: no latency, no draw, no other fault.
//! - Latency applies to every other request to the resource. Errors, drops
//!   and partial failures apply only to requests that reach the store
//!   (authenticated and valid): a bad key or body keeps its 400. When
//!   several are drawn, an error wins over a drop, a drop over a partial
//!   failure. A fault after the write needs a write: when the store refuses
//!   (400, e.g. an unknown id), the honest answer goes out.
//! - A drop is a real one: the connection is closed without a byte of
//!   response, at once (the server runs hyper's HTTP/1 connection loop
//!   itself, see `server`), so a client sees an incomplete message, never a
//!   status. Nothing is kept per connection: keep-alive connections carry
//!   no fate from one request to the next.
//! - A hidden subscription is there for PUT and DELETE at once, and in
//!   [`Sandbox::subscriptions`]; [`Sandbox::visible_subscriptions`] shows
//!   what GET shows. Hiding is not persisted: after a restart from the
//!   state file everything is visible.
//! - A lie (`lies`) is drawn for every admitted request too, from a second
//!   generator seeded from `seed`, so turning lies on shifts no other fate.
//!   It is told only to a GET the store answered and no other fault took,
//!   and only when the list is not empty: half the lies repeat one entry
//!   right after itself, half keep a first part (at least one entry left
//!   out) and add a hint saying there is more. Each is one the client
//!   refuses (`api::envelope`).
//! - [`Sandbox::set_faults`] replaces the faults of a running sandbox
//!   (an outage that ends, a proxy that stops lying): a fresh generator
//!   and a full bucket from the next request on; the counters go on.
//! - `/_sandbox/stats` and unknown paths are never subject to faults.
//!
//! # Deliveries
//!
//! A triggered event (`deliver`) goes to every subscription of its topic of
//! the key's merchant: a POST of `{"payload", "metadata": {"id",
//! "retryCount", "shopDomain", "topic", "version", "triggerredAt"}}`
//! (`payload` as given, else a sample per topic with the merchant id),
//! `id` = `evt_000001`, … per run, `shopDomain` =
//! `sandbox-<digest>.myshopify.com`, times from the wall clock. A non-2xx
//! answer or none within [`DeliveryConfig::timeout`] is retried after
//! [`DeliveryConfig::backoff`], doubling, up to [`DeliveryConfig::attempts`]
//! in all, the same `id` with `retryCount` counting up. Each attempt is
//! logged: `{"id","merchantId","topic","subscriptionId","callbackUrl",
//! "attempt","retryCount","status","error","delivered","at"}`, the last
//! 10,000 kept. Receivers never see a key; deliveries use no proxy and
//! follow no redirect.
//!
//! # State file
//!
//! With [`SandboxConfig::state_file`], the state is loaded at start (a
//! missing file is created empty, so an unwritable path fails at once; a
//! corrupt one is an error naming the path) and rewritten after every
//! successful write, atomically (a temporary file in the same directory,
//! then a rename), before that write is answered; writes in flight at the
//! same time share one rewrite (group commit), so the file does not
//! serialise them. Pretty JSON with sorted keys, deterministic for a given
//! sequence of requests:
//!
//! ```json
//! {
//!   "version": 2,
//!   "nextId": 3,
//!   "clock": 2,
//!   "merchants": {
//!     "m_6defbf1387daa62e": [
//!       {
//!         "id": "wh_000001",
//!         "topic": "customer.updated",
//!         "name": "crm",
//!         "callbackUrl": "https://example.com/hook",
//!         "createdAt": "2024-01-01T00:00:01Z",
//!         "updatedAt": "2024-01-01T00:00:02Z"
//!       }
//!     ]
//!   }
//! }
//! ```
//!
//! Merchants are stored under their merchant id, a digest of the key, never
//! the key: restarting with the keys reordered, or with one added, gives
//! every merchant its own subscriptions. A format 1 file (merchants as
//! `merchant-N`, the N-th `--api-key`) is refused with a message saying to
//! delete it.

mod config;
mod deliver;
mod faults;
mod http;
mod injector;
mod keys;
mod lies;
mod persist;
mod request;
mod server;
mod state;
mod stats;
#[cfg(test)]
mod tests;
mod wire;

pub use config::{DeliveryConfig, Ids, SandboxConfig};
pub use faults::{parse_probability, parse_rate_limit, Faults};
pub use server::Sandbox;
pub use stats::{InjectedStats, RequestStats};
