//! End-to-end tests: the real `invhooks` binary against the sandbox over
//! real HTTP on loopback. One test binary, a module per feature.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

mod support;

mod action;
mod apply;
mod big_stores;
mod bounds;
mod chaos;
mod chaos_interrupts;
mod chaos_lies;
mod chaos_waves;
mod chaos_writers;
mod check;
mod ci;
mod cli;
mod conformance;
mod deliveries;
mod docs;
mod doctor;
mod drift;
mod excerpts;
mod export;
mod export_fleet;
mod faults;
mod fleet;
mod fleet_apply;
mod fleet_files;
mod hostile_manifest;
mod hostile_server;
mod init;
mod interrupts;
mod keys;
mod manifest_mistakes;
mod masking;
mod mistakes;
mod netkit;
mod network;
mod partial_lists;
mod plan;
mod policy;
mod props;
mod reliability;
mod renames;
mod saved;
mod security;
mod service_container;
mod show;
mod sinks;
mod url_reading;
mod usability;
mod validate;
mod waves;
mod workflows;
mod workflows_fleet;
mod writers;
