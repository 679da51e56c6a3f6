//! The command line: [`args`] is what clap parses, [`config`] what it means
//! once checked and resolved against the environment.

pub mod args;
pub mod config;
