//! The SQLite implementations of the store traits (the embedded default).

pub(crate) mod inline;
mod links;
mod sessions;
mod tokens;
mod users;

pub use links::SqliteLinkStore;
pub use sessions::SqliteSessionRows;
pub use tokens::SqliteTokenStore;
pub use users::SqliteUserStore;
