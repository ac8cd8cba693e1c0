//! The core's modules depend one way: `cli → channels → engine → {cases, outbox} → store`, with `metrics`,
//! `i18n`, `faq` and `config` below. This test reads every `crate::` path in `src/` (imports and paths written
//! in code alike, comments left out) and fails when a module names one above it or a different module on its
//! own level.

use std::path::{Path, PathBuf};

/// Each top-level module of `src/` and its level: a module may name only modules on lower levels.
const LEVELS: &[(&str, u8)] = &[
    ("cli", 7),
    ("channels", 6),
    ("engine", 5),
    ("report", 5),
    ("cases", 4),
    ("outbox", 4),
    ("store", 3),
    ("metrics", 2),
    ("i18n", 2),
    ("faq", 1),
    ("config", 1),
];

/// Names under `crate::` that are not modules (macros exported at the crate root).
const NOT_MODULES: &[&str] = &["tr"];

fn level(module: &str) -> Option<u8> {
    LEVELS.iter().find(|(m, _)| *m == module).map(|(_, l)| *l)
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The modules a source text names as `crate::<module>` (also inside `use crate::{a, b}` groups), with the
/// line they are on.
fn named_modules(source: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_group = false;
    for (n, raw) in source.lines().enumerate() {
        let line = raw.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            if let Some(group) = after.strip_prefix('{') {
                in_group = true;
                rest = group;
                continue;
            }
            let name: String = after
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push((n + 1, name));
            rest = after;
        }
        if in_group {
            // The first segment of each item of a `use crate::{...}` group is a module name.
            for item in rest.split([',', '{', '}']) {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && level(&name).is_some() {
                    out.push((n + 1, name));
                }
            }
            if line.contains("};") {
                in_group = false;
            }
        }
    }
    out
}

/// Every import of a module above (or beside) the importing one, as `file:line: a -> b`.
fn violations(src: &Path) -> Vec<String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut found = Vec::new();
    for file in files {
        let relative = file.strip_prefix(src).unwrap();
        let top = relative
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let Some(own) = level(&top) else {
            // lib.rs and main.rs sit above every module.
            continue;
        };
        let source = std::fs::read_to_string(&file).unwrap();
        for (line, named) in named_modules(&source) {
            if named == top || NOT_MODULES.contains(&named.as_str()) {
                continue;
            }
            let allowed = level(&named).is_some_and(|l| l < own);
            if !allowed {
                found.push(format!(
                    "src/{}:{line}: {top} -> {named}",
                    relative.display()
                ));
            }
        }
    }
    found
}

#[test]
fn no_module_imports_one_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = violations(&src);
    assert!(
        found.is_empty(),
        "modules naming a module above or beside them:\n{}",
        found.join("\n")
    );
}

#[test]
fn every_top_level_module_has_a_level() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    for line in lib.lines() {
        if let Some(name) = line.trim().strip_prefix("pub mod ") {
            let name = name.trim_end_matches(';');
            assert!(level(name).is_some(), "src/{name} has no level in LEVELS");
        }
    }
}

#[test]
fn the_check_sees_upward_imports_in_all_their_forms() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path();
    std::fs::create_dir_all(src.join("cases")).unwrap();
    std::fs::create_dir_all(src.join("store")).unwrap();
    std::fs::write(
        src.join("cases/mod.rs"),
        "//! uses crate::engine in a comment only\nuse crate::store::keys;\nuse crate::engine::tx::Tx;\n",
    )
    .unwrap();
    std::fs::write(
        src.join("store/mod.rs"),
        "use crate::{\n    faq::Lang,\n    outbox::Item,\n};\nfn f() { crate::cases::load(); }\n",
    )
    .unwrap();
    std::fs::write(src.join("store/x.rs"), "use crate::outbox::Item; // up\n").unwrap();
    let found = violations(src);
    assert_eq!(
        found,
        vec![
            "src/cases/mod.rs:3: cases -> engine",
            "src/store/mod.rs:3: store -> outbox",
            "src/store/mod.rs:5: store -> cases",
            "src/store/x.rs:1: store -> outbox",
        ]
    );
}
