//! The CPU kernels the encoder trains with live in their own crate,
//! `crates/kernels`, compiled optimised even in debug builds.

pub use skuplan_kernels::{add_bias, gelu_erf, normalize, scale_shift};
