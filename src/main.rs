//! The `burstbuf` binary: everything lives in the library; see `src/lib.rs`.

use std::process::ExitCode;

fn main() -> ExitCode {
    burstbuf::internals::main()
}
