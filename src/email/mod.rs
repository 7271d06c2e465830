//! Email: an outbox written in the transaction of each change, delivered by
//! workers over SMTP, rendered from templates in the recipient's language.

pub mod outbox;
pub mod routes;
pub mod templates;
pub mod transport;
pub mod worker;

pub use outbox::{queue, queue_to, Outgoing};
