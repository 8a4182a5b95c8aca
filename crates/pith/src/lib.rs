//! The `pith` binary's input reader as a library, so that the fuzz targets (`fuzz/`)
//! exercise the very code the binary runs. Everything else of the driver lives in the
//! binary (`main.rs`); this is not a public API.

pub mod input;
