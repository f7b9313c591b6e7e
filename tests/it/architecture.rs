//! Layering rules that the compiler does not check: inside each crate, no two modules import
//! each other, directly or around a circle. (Cycles make modules impossible to read, test or
//! move on their own; the dependency direction between crates is checked by Cargo itself and by
//! `.ci/run`'s wasm guard.)

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const CRATES: [&str; 9] = [
    "crates/types/src",
    "crates/domain/src",
    "crates/store-duckdb/src",
    "crates/store-postgres/src",
    "crates/store-contract/src",
    "crates/client/src",
    "server/src",
    "app/src",
    "cli/src",
];

fn workspace() -> PathBuf {
    da_integration_tests::tests_dir()
        .parent()
        .expect("the workspace root")
        .to_owned()
}

/// The crate's top-level modules (a file, or a directory with its files) and their source,
/// without their `#[cfg(test)] mod tests` blocks.
fn modules(src: &Path) -> BTreeMap<String, String> {
    let mut modules = BTreeMap::new();
    for entry in std::fs::read_dir(src).expect("a source dir").flatten() {
        let path = entry.path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = if path.is_dir() {
            let mut text = String::new();
            for file in std::fs::read_dir(&path).unwrap().flatten() {
                text.push_str(&std::fs::read_to_string(file.path()).unwrap_or_default());
            }
            text
        } else if path.extension().is_some_and(|e| e == "rs") {
            if name == "lib" || name == "main" {
                continue;
            }
            std::fs::read_to_string(&path).unwrap()
        } else {
            continue;
        };
        let text = match text.find("#[cfg(test)]\nmod tests") {
            Some(at) => text[..at].to_owned(),
            None => text,
        };
        modules.insert(name, text);
    }
    modules
}

/// Names `lib.rs` / `main.rs` re-export, and the module each comes from.
fn reexports(src: &Path) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for root in ["lib.rs", "main.rs"] {
        let text = std::fs::read_to_string(src.join(root)).unwrap_or_default();
        for line in text.lines() {
            let Some(rest) = line.trim().strip_prefix("pub use ") else {
                continue;
            };
            let Some((module, items)) = rest.split_once("::") else {
                continue;
            };
            let items = items.trim_end_matches(';').trim_matches(['{', '}']);
            for item in items.split(',') {
                let item = item.trim().rsplit("::").next().unwrap_or("").trim();
                if !item.is_empty() && item != "*" {
                    names.insert(item.to_owned(), module.to_owned());
                }
            }
        }
    }
    names
}

/// The first path segment after every `crate::`, including inside `crate::{a, b::c}` groups.
fn crate_references(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        // `$crate::` is a macro's own path, not an import.
        let is_macro_path = at > 0 && rest.as_bytes()[at - 1] == b'$';
        rest = &rest[at + "crate::".len()..];
        if is_macro_path {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let first = item.trim().split("::").next().unwrap_or("").trim();
                if !first.is_empty() {
                    found.insert(first.to_owned());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                found.insert(name);
            }
        }
    }
    found
}

fn find_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|n| n == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_two_modules_import_each_other() {
    let mut cycles = Vec::new();
    for krate in CRATES {
        let src = workspace().join(krate);
        let modules = modules(&src);
        let reexported = reexports(&src);
        let graph: BTreeMap<String, BTreeSet<String>> = modules
            .iter()
            .map(|(name, text)| {
                let deps = crate_references(text)
                    .into_iter()
                    .filter_map(|reference| {
                        if modules.contains_key(&reference) {
                            Some(reference)
                        } else {
                            reexported.get(&reference).cloned()
                        }
                    })
                    .filter(|dep| dep != name)
                    .collect();
                (name.clone(), deps)
            })
            .collect();
        if let Some(cycle) = find_cycle(&graph) {
            cycles.push(format!("{krate}: {}", cycle.join(" → ")));
        }
    }
    assert!(
        cycles.is_empty(),
        "module import cycles:\n{}",
        cycles.join("\n")
    );
}

#[test]
fn the_checker_sees_grouped_imports_and_cycles() {
    let refs = crate_references("use crate::{a, b::c};\nuse crate::d::E;\n$crate::m!();");
    assert_eq!(
        refs.into_iter().collect::<Vec<_>>(),
        ["a", "b", "d"].map(String::from)
    );
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.into_iter().map(String::from).collect()))
    .collect();
    assert_eq!(
        find_cycle(&graph).unwrap(),
        ["a", "b", "c", "a"].map(String::from)
    );
}
