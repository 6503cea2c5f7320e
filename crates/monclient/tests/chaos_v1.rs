//! The `chaos` suite against monitors that speak only msgr1: the same
//! source, which tells the variant by this binary's name.

#[path = "chaos.rs"]
mod suite;
