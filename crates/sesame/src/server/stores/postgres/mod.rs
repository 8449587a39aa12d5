//! The PostgreSQL implementations of the store traits: one database shared
//! by several instances.

mod links;
mod sessions;
mod tokens;
mod users;

pub use links::PgLinkStore;
pub use sessions::PgSessionRows;
pub use tokens::PgTokenStore;
pub use users::PgUserStore;
