//! Defences: the client IP behind trusted proxies, CSRF and the keyed MACs
//! it shares, the `callbackUrl` policy, the per-IP limit, the per-account
//! lockout, the budgets, the hashing gate, password hashing and policy,
//! owner-only files, and the audit events.

pub mod audit;
pub(crate) mod budgets;
pub(crate) mod callback_url;
pub(crate) mod client_ip;
pub(crate) mod csrf;
pub(crate) mod files;
pub(crate) mod hash_gate;
pub(crate) mod keys;
pub(crate) mod limits;
pub(crate) mod lockout;
pub(crate) mod password;
pub(crate) mod sealed;
