//! `against_ceph` against monitors that speak only msgr1: `monc` and
//! `ceph` must still give the same exit codes and output. The same source;
//! its clusters are msgr1-only because this binary's name ends in `_v1`.

#[path = "against_ceph.rs"]
mod suite;
