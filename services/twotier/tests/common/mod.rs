//! A whole twotier system as separate processes (`twotier run --only
//! <service>`), each service on its own database, with a real SMTP server:
//! what the fault-injection tests kill, cut and restart.

#![allow(dead_code, unused_imports)]

pub mod in_process;
pub mod workload;

mod processes;
mod verify;

pub use processes::{SERVICES, ServiceProcess, System};
pub use verify::{count, pairs, scalar, verify};
