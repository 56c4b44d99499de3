//! The kiosk's one HTTP API to the provincial platform (一体化政务服务中台):
//!
//! 1. [`wire`]: the JSON wire types (serde), one per schema of `openapi.yaml`;
//! 2. `openapi.yaml` beside `Cargo.toml`: the contract, for people and tools
//!    ([`OPENAPI_YAML`] holds its text);
//! 3. [`client`]: the HTTP client the kiosk uses ([`PlatformClient`]), with timeouts, an
//!    idempotency key on every write and typed errors;
//! 4. [`sim`]: the platform SIMULATOR, a real HTTP server that is clearly a stand-in, used by
//!    `kiosk platform-sim` ([`cli::run_platform_sim`]), `kiosk run --simulate` and tests.
//!
//! Personal data goes only in request and response bodies, never in URLs, and never into
//! logs; `Debug` of wire types that carry it masks it.

#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod mask;
pub mod sim;
pub mod wire;

pub use cli::{PlatformSimArgs, run_platform_sim};
pub use client::{
    ClientBuildError, ClientConfig, PlatformClient, PlatformError, Unavailable, Written,
    install_crypto_provider,
};
pub use sim::{SimConfig, SimControl, SimHandle, Simulator};

/// The OpenAPI 3 document of the platform API (`app/platform/openapi.yaml`).
pub const OPENAPI_YAML: &str = include_str!("../openapi.yaml");
