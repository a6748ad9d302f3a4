//! The module tree reads as the pipeline: the top-level folders of `src/` depend on each other
//! without cycles, and the domain (model, rules, build, config, timing) never depends on an
//! adapter (GitHub, HTTP, intake, controller, leader election, metrics, logs). Read from the
//! `crate::…` paths of the source, so a new `use` that breaks either rule fails here, naming
//! the file and line.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The layers that only other layers build on.
const DOMAIN: [&str; 5] = ["model", "rules", "build", "config", "timing"];

/// One `crate::<module>` reference: from which top-level module, where.
struct Reference {
    from: String,
    to: String,
    at: String,
}

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file belongs to (`None` for the crate root and the binary).
fn top_level(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_str()?;
    match first {
        "lib.rs" | "main.rs" => None,
        other => Some(other.trim_end_matches(".rs").to_owned()),
    }
}

/// Every `crate::<name>` in code (not in comments), with its line.
fn crate_paths(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (number, line) in text.lines().enumerate() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let after = &rest[at + "crate::".len()..];
            let name: String = after
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            let preceded_by_word = rest[..at]
                .chars()
                .last()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
            if !name.is_empty() && !preceded_by_word {
                found.push((number + 1, name));
            }
            rest = after;
        }
    }
    found
}

fn references() -> Vec<Reference> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut references = Vec::new();
    for file in files {
        let Some(from) = top_level(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("read source");
        for (line, to) in crate_paths(&text) {
            if to != from {
                let at = format!("{}:{line}", file.strip_prefix(&src).unwrap().display());
                references.push(Reference {
                    from: from.clone(),
                    to,
                    at,
                });
            }
        }
    }
    references
}

/// A cycle through the graph, if there is one (as the module names along it).
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
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
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn top_level_modules_form_no_cycle() {
    let references = references();
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &references {
        edges
            .entry(r.from.clone())
            .or_default()
            .insert(r.to.clone());
    }
    assert!(
        edges.contains_key("controller"),
        "the scan found no modules: {edges:?}"
    );
    if let Some(cycle) = find_cycle(&edges) {
        let mut why = String::new();
        for pair in cycle.windows(2) {
            let at = references
                .iter()
                .find(|r| r.from == pair[0] && r.to == pair[1])
                .map(|r| r.at.as_str())
                .unwrap_or("?");
            why.push_str(&format!("\n  {} -> {} (src/{at})", pair[0], pair[1]));
        }
        panic!("the top-level modules form a cycle:{why}");
    }
}

#[test]
fn the_domain_never_depends_on_an_adapter() {
    let wrong: Vec<String> = references()
        .into_iter()
        .filter(|r| DOMAIN.contains(&r.from.as_str()) && !DOMAIN.contains(&r.to.as_str()))
        .map(|r| format!("src/{}: {} uses crate::{}", r.at, r.from, r.to))
        .collect();
    assert!(
        wrong.is_empty(),
        "the domain depends on adapters:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scan_finds_paths_and_cycles() {
    assert_eq!(
        crate_paths(
            "use crate::model::crd;\n// crate::github\nlet x = crate::rules::plan(); // crate::http"
        ),
        [(1, "model".to_owned()), (3, "rules".to_owned())]
    );
    assert!(crate_paths("use my_crate::github;").is_empty());
    let edges = |pairs: &[(&str, &str)]| {
        let mut map: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in pairs {
            map.entry((*a).to_owned())
                .or_default()
                .insert((*b).to_owned());
        }
        map
    };
    assert_eq!(find_cycle(&edges(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(
        find_cycle(&edges(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}

/// Production code of a source file: what comes before its unit tests.
fn production_code(file: &Path, text: &str) -> Option<String> {
    if file.file_name().is_some_and(|n| n == "tests.rs") {
        return None;
    }
    Some(text.split("#[cfg(test)]").next().unwrap_or("").to_owned())
}

#[test]
fn every_duration_is_named_in_the_timing_module() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let constructors = [
        "from_secs(",
        "from_millis(",
        "from_micros(",
        "from_nanos(",
        "from_secs_f64(",
        "seconds(",
        "minutes(",
        "hours(",
        "days(",
    ];
    let mut literal = Vec::new();
    for file in files.iter().filter(|f| !f.ends_with("timing.rs")) {
        let text = std::fs::read_to_string(file).expect("read source");
        let Some(code) = production_code(file, &text) else {
            continue;
        };
        for (number, line) in code.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            let numeric = constructors.iter().any(|c| {
                code.match_indices(c).any(|(at, c)| {
                    code[at + c.len()..]
                        .trim_start()
                        .starts_with(|ch: char| ch.is_ascii_digit())
                })
            });
            if numeric && code.contains("Duration") {
                literal.push(format!(
                    "src/{}:{}: {}",
                    file.strip_prefix(&src).unwrap().display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        literal.is_empty(),
        "durations written as numbers outside src/timing.rs:\n{}",
        literal.join("\n")
    );
}
