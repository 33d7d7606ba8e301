//! The house rules of src/, read from the source itself: no two modules
//! import each other in a circle (file by file, and room by room at the
//! top), the library below the front ends never reaches up into `cli` or
//! `tui`, plans never import the engine, only the agreed files sit at the
//! top of src/, and no file grows past about 900 lines.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path such as ["plan", "restock"]; the crate root is [].
type Module = Vec<String>;

/// The checkout under test: cargo sets CARGO_MANIFEST_DIR when it runs the
/// test too, and that wins over the one compiled in (a target folder shared
/// between two checkouts can hand one the other's test binary).
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

fn src_dir() -> PathBuf {
    root().join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

/// Every module file of the library, by module path (main.rs is the
/// binary's root and is left out).
fn modules() -> BTreeMap<Module, String> {
    let root = src_dir();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut out = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(&root).unwrap().with_extension("");
        let mut parts: Module = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
        if parts == ["main"] {
            continue;
        }
        if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
            parts.pop();
        }
        out.insert(parts, fs::read_to_string(&file).unwrap());
    }
    out
}

/// The code without comments, string literals and the unit tests at the
/// end of the file (`#[cfg(test)]`): what the module itself depends on.
fn code_of(text: &str) -> String {
    let body = match text.find("#[cfg(test)]\nmod ") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::with_capacity(body.len());
    for line in body.lines() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        // Drop string literals (a format string may name a path).
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Paths named after `crate::` or `super::`, with `{a, b::c}` groups
/// expanded, as lists of segments relative to the crate root.
fn referenced_paths(module: &Module, code: &str) -> Vec<Module> {
    let mut out = Vec::new();
    let chars: Vec<char> = code.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let starts_word = i == 0 || !is_ident(chars[i - 1]) && chars[i - 1] != ':';
        let rest: String = chars[i..(i + 7).min(chars.len())].iter().collect();
        let (base, skip) = if starts_word && rest.starts_with("crate::") {
            (Vec::new(), 7)
        } else if starts_word && rest.starts_with("super::") {
            // `super` is the parent module, for a mod.rs as for a file.
            let mut b = module.clone();
            b.pop();
            (b, 7)
        } else {
            i += 1;
            continue;
        };
        let mut j = i + skip;
        let mut base = base;
        // Further super:: steps.
        while chars[j..].iter().take(7).collect::<String>() == "super::" {
            base.pop();
            j += 7;
        }
        let (paths, end) = parse_tree(&chars, j);
        for p in paths {
            let mut full = base.clone();
            full.extend(p);
            out.push(full);
        }
        i = end.max(i + 1);
    }
    out
}

/// Parse `a::b::{c, d::{e}}` from `at`; returns every leaf path and where
/// the tree ended.
fn parse_tree(chars: &[char], at: usize) -> (Vec<Module>, usize) {
    let mut segs: Module = Vec::new();
    let mut i = at;
    loop {
        let start = i;
        while i < chars.len() && is_ident(chars[i]) {
            i += 1;
        }
        if i > start {
            segs.push(chars[start..i].iter().collect());
        }
        let group = i < chars.len() && chars[i] == '{' && i == start;
        if group || i + 1 < chars.len() && chars[i] == ':' && chars[i + 1] == ':' {
            if !group {
                i += 2;
            }
            if i < chars.len() && chars[i] == '{' {
                i += 1;
                let mut out = Vec::new();
                loop {
                    while i < chars.len() && (chars[i].is_whitespace() || chars[i] == ',') {
                        i += 1;
                    }
                    if i >= chars.len() || chars[i] == '}' {
                        break;
                    }
                    let (inner, end) = parse_tree(chars, i);
                    for p in inner {
                        let mut full = segs.clone();
                        full.extend(p);
                        out.push(full);
                    }
                    // Skip `as x` and anything up to the next item.
                    i = end;
                    while i < chars.len() && chars[i] != ',' && chars[i] != '}' {
                        i += 1;
                    }
                }
                return (out, i + 1);
            }
            continue;
        }
        return (vec![segs], i);
    }
}

/// The longest prefix of `path` that is a module file.
fn resolve(path: &Module, known: &BTreeSet<Module>) -> Option<Module> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|p| known.contains(p))
}

/// Module -> the modules it imports (not counting its own ancestors,
/// whose mod.rs only declares and re-exports).
fn graph() -> BTreeMap<Module, BTreeSet<Module>> {
    let mods = modules();
    let known: BTreeSet<Module> = mods.keys().cloned().collect();
    let mut g = BTreeMap::new();
    for (m, text) in &mods {
        let mut deps = BTreeSet::new();
        for p in referenced_paths(m, &code_of(text)) {
            if let Some(d) = resolve(&p, &known)
                && d != *m
                && !m.starts_with(&d)
            {
                deps.insert(d);
            }
        }
        g.insert(m.clone(), deps);
    }
    g
}

/// Strongly connected components with more than one member.
fn circles<N: Ord + Clone>(g: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    // Kosaraju: order by finish time, then walk the reversed graph.
    fn visit<N: Ord + Clone>(n: &N, g: &BTreeMap<N, BTreeSet<N>>, seen: &mut BTreeSet<N>, order: &mut Vec<N>) {
        if !seen.insert(n.clone()) {
            return;
        }
        for d in g.get(n).into_iter().flatten() {
            visit(d, g, seen, order);
        }
        order.push(n.clone());
    }
    let mut seen = BTreeSet::new();
    let mut order = Vec::new();
    for n in g.keys() {
        visit(n, g, &mut seen, &mut order);
    }
    let mut rev: BTreeMap<N, BTreeSet<N>> = BTreeMap::new();
    for (a, ds) in g {
        for d in ds {
            rev.entry(d.clone()).or_default().insert(a.clone());
        }
    }
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in order.iter().rev() {
        if done.contains(n) {
            continue;
        }
        let mut comp = Vec::new();
        let mut stack = vec![n.clone()];
        done.insert(n.clone());
        while let Some(x) = stack.pop() {
            comp.push(x.clone());
            for p in rev.get(&x).into_iter().flatten() {
                if done.insert(p.clone()) {
                    stack.push(p.clone());
                }
            }
        }
        if comp.len() > 1 {
            comp.sort();
            out.push(comp);
        }
    }
    out
}

fn name(m: &Module) -> String {
    if m.is_empty() { "lib".into() } else { m.join("/") }
}

#[test]
fn the_parser_sees_grouped_and_relative_imports() {
    let m: Module = vec!["plan".into(), "base".into()];
    let code = "use super::restock::{Adjustments, build_plan};\nuse crate::{domain::Dataset, fsio};\n\
                fn f() { crate::forecast::backtest::run(); let s = \"crate::tui\"; }";
    let got = referenced_paths(&m, &code_of(code));
    let want: Vec<Module> = [
        "plan/restock/Adjustments",
        "plan/restock/build_plan",
        "domain/Dataset",
        "fsio",
        "forecast/backtest/run",
    ]
    .iter()
    .map(|s| s.split('/').map(String::from).collect())
    .collect();
    assert_eq!(got, want);
    // A circle is found, and a chain is not one.
    let g: BTreeMap<u8, BTreeSet<u8>> = [(1, [2].into()), (2, [3].into()), (3, [1].into()), (4, [1].into())].into();
    assert_eq!(circles(&g), vec![vec![1, 2, 3]]);
    let g: BTreeMap<u8, BTreeSet<u8>> = [(1, [2].into()), (2, [3].into()), (3, [].into())].into();
    assert!(circles(&g).is_empty());
}

#[test]
fn no_module_imports_another_in_a_circle() {
    let g = graph();
    assert!(g.len() > 40, "the source tree was not read: {} modules", g.len());
    let found: Vec<Vec<String>> = circles(&g).iter().map(|c| c.iter().map(name).collect()).collect();
    assert!(found.is_empty(), "import circles between files: {found:?}");
    // Room by room (the top-level modules).
    let mut rooms: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (m, deps) in &g {
        let a = m.first().cloned().unwrap_or_default();
        let entry = rooms.entry(a.clone()).or_default();
        for d in deps {
            let b = d.first().cloned().unwrap_or_default();
            if b != a && !a.is_empty() {
                entry.insert(b);
            }
        }
    }
    let found = circles(&rooms);
    assert!(found.is_empty(), "import circles between rooms: {found:?}");
}

#[test]
fn the_library_never_reaches_up_into_the_front_ends() {
    let g = graph();
    let mut wrong = Vec::new();
    for (m, deps) in &g {
        let room = m.first().map(String::as_str).unwrap_or("");
        for d in deps {
            let to = d.first().map(String::as_str).unwrap_or("");
            let front_end = matches!(to, "cli" | "tui") && !matches!(room, "cli" | "tui");
            let tui_to_cli = room == "tui" && to == "cli";
            let plan_to_engine = room == "plan" && to == "engine";
            let domain_up = room == "domain" && !d.is_empty();
            if front_end || tui_to_cli || plan_to_engine || domain_up {
                wrong.push(format!("{} -> {}", name(m), name(d)));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the layering: {wrong:?}");
}

#[test]
fn only_the_agreed_files_sit_at_the_top_of_src() {
    let mut top: Vec<String> = fs::read_dir(src_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(
        top,
        ["config.rs", "fsio.rs", "lib.rs", "logging.rs", "main.rs"],
        "src/ holds rooms (folders); a new top-level file belongs in one"
    );
}

#[test]
fn no_source_file_is_over_900_lines() {
    let mut files = Vec::new();
    rust_files(&src_dir(), &mut files);
    rust_files(&root().join("crates"), &mut files);
    let long: Vec<String> = files
        .iter()
        .map(|f| (f, fs::read_to_string(f).unwrap().lines().count()))
        .filter(|(_, n)| *n > 900)
        .map(|(f, n)| format!("{} ({n} lines)", f.display()))
        .collect();
    assert!(long.is_empty(), "split these by job: {long:?}");
    let main = fs::read_to_string(src_dir().join("main.rs")).unwrap().lines().count();
    assert!(main < 100, "main.rs only sets up and dispatches: {main} lines");
}
