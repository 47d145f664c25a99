//! End-to-end tests: the real `invhooks` binary against the sandbox over
//! real HTTP on loopback. One test binary, a module per feature.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod support;

mod apply;
mod cli;
mod drift;
mod export;
mod plan;
mod validate;
