//! Sizing: the live model as a discrete-event simulation in virtual time, and
//! `burstbuf sweep` over capacities and consumer counts. Pure: no threads, no
//! clock, nothing shared with the live engine but the model.

pub mod sim;
pub mod sweep;
