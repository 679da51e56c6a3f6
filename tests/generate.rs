//! `burstbuf --generate`: the man page and completion scripts, end to end.
//! Each is checked for its format's opening and against `--help`: every
//! option the help shows must be in each of them.

use std::io::Write;
use std::process::{Command, Stdio};

mod common;
use common::burstbuf;

fn generated(kind: &str) -> String {
    let output = burstbuf(&["--generate", kind]).output().unwrap();
    assert!(output.status.success(), "{kind}: {output:?}");
    assert!(output.stderr.is_empty(), "{kind}: {output:?}");
    String::from_utf8(output.stdout).unwrap()
}

/// Every `--long` option `--help` lists, for the program and each subcommand.
fn options_in_help() -> Vec<String> {
    let mut options = Vec::new();
    for args in [&["--help"][..], &["sweep", "--help"], &["fit", "--help"]] {
        let output = burstbuf(args).output().unwrap();
        assert!(output.status.success());
        for line in String::from_utf8(output.stdout).unwrap().lines() {
            // Option lines start with `  -x, --name` or `      --name`.
            let line = line.trim_start();
            let line = match line.split_once(", ") {
                Some((short, rest)) if short.len() == 2 && short.starts_with('-') => rest,
                _ => line,
            };
            let Some(rest) = line.strip_prefix("--") else {
                continue;
            };
            let name: String = rest
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            if name.starts_with(|c: char| c.is_ascii_alphabetic()) && !options.contains(&name) {
                options.push(name);
            }
        }
    }
    assert!(options.len() > 30, "too few options found: {options:?}");
    options
}

#[test]
fn the_man_page_is_roff_with_every_option() {
    let page = generated("man");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH OPTIONS",
        ".SH \"BURSTBUF SWEEP\"",
    ] {
        assert!(page.lines().any(|l| l == section), "no {section}");
    }
    // Past the preamble (the apostrophe's definition, once), the title comes first.
    let mut lines = page.lines();
    assert!(lines.next().unwrap().starts_with(".ie "), "{page}");
    assert!(lines.next().unwrap().starts_with(".el "), "{page}");
    assert!(
        lines.next().unwrap().starts_with(".TH burstbuf 1"),
        "{page}"
    );
    assert!(
        !lines.any(|l| l.starts_with(".ie ")),
        "one preamble: {page}"
    );
    for name in options_in_help() {
        let roff = format!("\\-\\-{}", name.replace('-', "\\-"));
        assert!(page.contains(&roff), "--{name} is not in the man page");
    }
}

/// `bash -n`: the script parses; then it is sourced and asked to complete.
#[test]
fn the_bash_script_parses_and_completes() {
    let script = generated("complete-bash");
    assert!(script.contains("complete -F _burstbuf"), "no complete -F");
    for name in options_in_help() {
        assert!(
            script.contains(&format!("--{name}")),
            "--{name} is not completed"
        );
    }
    let mut bash = Command::new("bash")
        .arg("-n")
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    bash.stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(bash.wait().unwrap().success(), "bash -n rejects the script");
    // Sourced, it answers `burstbuf sweep --cap<TAB>` with --capacities.
    let ask = format!(
        "{script}\nCOMP_WORDS=(burstbuf sweep --cap); COMP_CWORD=2; _burstbuf burstbuf --cap sweep; \
         printf '%s\\n' \"${{COMPREPLY[@]}}\""
    );
    let output = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &ask])
        .output()
        .unwrap();
    let replies = String::from_utf8(output.stdout.clone()).unwrap();
    assert!(
        replies.lines().any(|l| l == "--capacities"),
        "completions of `sweep --cap`: {replies:?} {output:?}"
    );
}

#[test]
fn the_zsh_and_fish_scripts_name_every_option() {
    let zsh = generated("complete-zsh");
    assert!(
        zsh.starts_with("#compdef burstbuf"),
        "{}",
        &zsh[..40.min(zsh.len())]
    );
    let fish = generated("complete-fish");
    assert!(fish.contains("complete -c burstbuf"), "no complete -c");
    for name in options_in_help() {
        assert!(zsh.contains(&format!("--{name}")), "--{name} not in zsh's");
        assert!(
            fish.contains(&format!("-l {name}")),
            "--{name} not in fish's"
        );
    }
}

#[test]
fn generate_goes_with_nothing_else() {
    let output = burstbuf(&["--generate", "man", "--capacity", "5"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let output = burstbuf(&["--generate", "complete-tcsh"]).output().unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.contains("complete-bash"),
        "the kinds are listed: {stderr}"
    );
}
