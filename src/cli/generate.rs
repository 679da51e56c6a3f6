//! `burstbuf --generate KIND`: the man page and the shells' completion
//! scripts, made from the same clap definitions as `--help` (the ripgrep
//! convention), so they cannot drift from the options the program takes.

use std::io::{self, Write};

use clap::{CommandFactory, ValueEnum};
use clap_complete::Shell;
use clap_mangen::Man;

use super::args::Cli;

/// `--generate`: what to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Generate {
    /// The man page, in roff (`burstbuf --generate man > burstbuf.1`)
    Man,
    /// A bash completion script
    CompleteBash,
    /// A zsh completion script (`_burstbuf`, for a directory in `$fpath`)
    CompleteZsh,
    /// A fish completion script
    CompleteFish,
}

/// Writes what `kind` asks for to `out`.
pub fn write(kind: Generate, out: &mut dyn Write) -> io::Result<()> {
    let mut cli = Cli::command();
    // Gives each subcommand its full name (`burstbuf sweep`) for its synopsis.
    cli.build();
    let shell = match kind {
        Generate::Man => return man(&cli, out),
        Generate::CompleteBash => Shell::Bash,
        Generate::CompleteZsh => Shell::Zsh,
        Generate::CompleteFish => Shell::Fish,
    };
    let name = cli.get_name().to_owned();
    clap_complete::generate(shell, &mut cli, name, out);
    Ok(())
}

/// One page for the whole program: clap_mangen's page for the top command,
/// then a section per subcommand with its synopsis and options (clap_mangen
/// alone would list the subcommands by name and leave their options out, or
/// make one page each, which `--generate` could not print as one).
fn man(cli: &clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let page = Man::new(cli.clone());
    let mut roff = Vec::new();
    page.render_title(&mut roff)?;
    page.render_name_section(&mut roff)?;
    page.render_synopsis_section(&mut roff)?;
    page.render_description_section(&mut roff)?;
    page.render_options_section(&mut roff)?;
    // Not `help`: the page is the help.
    for sub in cli
        .get_subcommands()
        .filter(|s| !s.is_hide_set() && s.get_name() != "help")
    {
        let name = sub.get_bin_name().unwrap_or(sub.get_name()).to_uppercase();
        writeln!(roff, ".SH \"{name}\"")?;
        let sub_page = Man::new(sub.clone());
        let mut sections = Vec::new();
        sub_page.render_description_section(&mut sections)?;
        sub_page.render_synopsis_section(&mut sections)?;
        sub_page.render_options_section(&mut sections)?;
        // Its sections become subsections of the subcommand's.
        for line in String::from_utf8_lossy(&sections).lines() {
            match line.strip_prefix(".SH ") {
                Some(title) => writeln!(roff, ".SS {}", title_case(title))?,
                None => writeln!(roff, "{line}")?,
            }
        }
    }
    page.render_extra_section(&mut roff)?;
    page.render_version_section(&mut roff)?;
    // Each section rendered on its own starts with roff's preamble (the
    // apostrophe's definition): once at the top is enough.
    let mut seen = Vec::new();
    for line in String::from_utf8_lossy(&roff).lines() {
        let preamble = line.starts_with(".ie \\n(.g .ds Aq") || line.starts_with(".el .ds Aq");
        if preamble && seen.contains(&line) {
            continue;
        }
        if preamble {
            seen.push(line);
        }
        writeln!(out, "{line}")?;
    }
    Ok(())
}

/// `OPTIONS` → `Options`, as subsection titles are written.
fn title_case(title: &str) -> String {
    let title = title.trim_matches('"').to_lowercase();
    let mut chars = title.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => title,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(kind: Generate) -> String {
        let mut out = Vec::new();
        write(kind, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn the_man_page_holds_every_subcommands_options() {
        let page = generated(Generate::Man);
        assert!(first_request(&page).starts_with(".TH burstbuf 1"), "{page}");
        for line in [
            ".SH \"BURSTBUF SWEEP\"",
            ".SH \"BURSTBUF FIT\"",
            ".SS Options",
        ] {
            assert!(page.lines().any(|l| l == line), "no {line}");
        }
        let cli = Cli::command();
        let sweep = cli.find_subcommand("sweep").unwrap();
        for arg in sweep.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                let roff = format!("\\-\\-{}", long.replace('-', "\\-"));
                assert!(page.contains(&roff), "--{long} not in the man page");
            }
        }
    }

    /// The first line past roff's preamble (the string definitions that
    /// make an apostrophe print as one, on groff and elsewhere).
    fn first_request(page: &str) -> &str {
        page.lines()
            .find(|l| !l.starts_with(".ie ") && !l.starts_with(".el "))
            .unwrap_or("")
    }

    #[test]
    fn title_case_of_section_names() {
        assert_eq!(title_case("OPTIONS"), "Options");
        assert_eq!(title_case("\"SYNOPSIS\""), "Synopsis");
        assert_eq!(title_case(""), "");
    }
}
