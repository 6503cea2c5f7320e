//! msgr2, client side: the modules that make it up, under one name beside
//! [`crate::v1`] (they also stay reachable at the crate root).

pub use crate::frame;
pub use crate::message;
pub use crate::payload;
pub use crate::protocol;
