//! The crate's modules in layers, held by reading the code: every path into the crate
//! (`crate::x::…`, `use crate::{…}`, a root re-export such as `crate::Error`) in every file of
//! `src/`, and in the generated client (its snapshot), must go to the same layer or a lower one,
//! and the module graph has no cycle. So a call runs one way (builder → request → executor →
//! `Result`), and the guide's "How it is built" (`src/guide/architecture.md`) stays true.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use support::rust_files;

use syn::visit::Visit;

/// The layers, lowest first: a module may use its own layer's modules and lower ones.
const LAYERS: &[(&str, &[&str])] = &[
    ("values", &["shown", "clock", "enums", "validate"]),
    ("generated data", &["api::types", "api::spec"]),
    (
        "errors",
        &["shown::body", "shown::hero", "attempt", "error"],
    ),
    (
        "call parts",
        &[
            "retry",
            "auth",
            "response",
            "rules",
            "pace",
            "state",
            "telemetry",
        ],
    ),
    ("executor", &["transport", "paginate"]),
    ("generated client", &["api"]),
    (
        "features",
        &[
            "client",
            "find",
            "wait",
            "register",
            "recipient",
            "ranges",
            "webhooks",
            "attachments",
            "failures",
            "shapes",
            "fuzzing",
        ],
    ),
    ("docs", &["guide"]),
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, ms)| ms.contains(&module))
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// What the crate root re-exports: `name -> module` (`Error -> error`, `types -> api::types`).
fn root_names(lib: &syn::File) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    fn walk(tree: &syn::UseTree, module: Option<String>, names: &mut BTreeMap<String, String>) {
        match tree {
            syn::UseTree::Path(p) => {
                let m = match module {
                    None => p.ident.to_string(),
                    Some(m) if m == "api" => format!("api::{}", p.ident),
                    Some(m) => m,
                };
                walk(&p.tree, Some(m), names);
            }
            syn::UseTree::Name(n) => {
                if let Some(m) = module {
                    let name = n.ident.to_string();
                    let m = match (m.as_str(), name.as_str()) {
                        ("api", "types" | "spec") => format!("api::{name}"),
                        _ => m,
                    };
                    names.insert(name, m);
                }
            }
            syn::UseTree::Rename(r) => {
                if let Some(m) = module {
                    names.insert(r.rename.to_string(), m);
                }
            }
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| walk(t, module.clone(), names)),
            syn::UseTree::Glob(_) => {}
        }
    }
    for item in &lib.items {
        if let syn::Item::Use(u) = item {
            walk(&u.tree, None, &mut names);
        }
    }
    names.insert("Result".into(), "error".into());
    names
}

/// The crate module a path `crate::a::b::…` names.
fn target(segments: &[String], roots: &BTreeMap<String, String>) -> Option<String> {
    let first = segments.first()?;
    if first == "api" {
        return Some(match segments.get(1).map(String::as_str) {
            Some("types") => "api::types".into(),
            Some("spec") => "api::spec".into(),
            _ => "api".into(),
        });
    }
    // `shown`'s masks of texts from outside read the spec's words: a layer above its values.
    if first == "shown"
        && let Some(sub @ ("body" | "hero")) = segments.get(1).map(String::as_str)
    {
        return Some(format!("shown::{sub}"));
    }
    if layer_of(first).is_some() {
        return Some(first.clone());
    }
    roots.get(first).cloned()
}

/// Every crate module a syntax tree's paths name.
struct Uses<'a> {
    roots: &'a BTreeMap<String, String>,
    found: BTreeSet<String>,
}

impl<'ast> Visit<'ast> for Uses<'_> {
    fn visit_path(&mut self, p: &'ast syn::Path) {
        let segments: Vec<String> = p.segments.iter().map(|s| s.ident.to_string()).collect();
        if segments.first().is_some_and(|s| s == "crate")
            && let Some(t) = target(&segments[1..], self.roots)
        {
            self.found.insert(t);
        }
        syn::visit::visit_path(self, p);
    }

    fn visit_item_use(&mut self, u: &'ast syn::ItemUse) {
        fn walk(tree: &syn::UseTree, prefix: &mut Vec<String>, uses: &mut Uses<'_>) {
            match tree {
                syn::UseTree::Path(p) => {
                    prefix.push(p.ident.to_string());
                    walk(&p.tree, prefix, uses);
                    prefix.pop();
                }
                syn::UseTree::Name(n) => {
                    prefix.push(n.ident.to_string());
                    record(prefix, uses);
                    prefix.pop();
                }
                syn::UseTree::Rename(r) => {
                    prefix.push(r.ident.to_string());
                    record(prefix, uses);
                    prefix.pop();
                }
                syn::UseTree::Group(g) => g.items.iter().for_each(|t| walk(t, prefix, uses)),
                syn::UseTree::Glob(_) => record(prefix, uses),
            }
        }
        fn record(path: &[String], uses: &mut Uses<'_>) {
            if path.first().is_some_and(|s| s == "crate")
                && let Some(t) = target(&path[1..], uses.roots)
            {
                uses.found.insert(t);
            }
        }
        walk(&u.tree, &mut Vec::new(), self);
    }

    // Doc examples are the user's code, not the module's.
    fn visit_attribute(&mut self, _: &'ast syn::Attribute) {}

    // Macro bodies are tokens: read the paths in them too.
    fn visit_macro(&mut self, m: &'ast syn::Macro) {
        let tokens: Vec<String> = m
            .tokens
            .clone()
            .into_iter()
            .map(|t| t.to_string())
            .collect();
        for (i, t) in tokens.iter().enumerate() {
            if t == "crate" && tokens.get(i + 1).is_some_and(|c| c == ":") {
                let mut segments = Vec::new();
                let mut j = i + 3;
                while let Some(s) = tokens.get(j) {
                    if !s.chars().all(|c| c.is_alphanumeric() || c == '_') {
                        break;
                    }
                    segments.push(s.clone());
                    if tokens.get(j + 1).is_some_and(|c| c == ":") {
                        j += 3;
                    } else {
                        break;
                    }
                }
                if let Some(t) = target(&segments, self.roots) {
                    self.found.insert(t);
                }
            }
        }
        syn::visit::visit_macro(self, m);
    }
}

/// `module -> the modules it uses`, for the handwritten files and the generated client.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let lib: syn::File =
        syn::parse_file(&std::fs::read_to_string(root().join("src/lib.rs")).unwrap()).unwrap();
    let roots = root_names(&lib);
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut files = Vec::new();
    rust_files(&root().join("src"), &mut files);
    for path in files {
        let rel = path.strip_prefix(root().join("src")).unwrap();
        let mut parts = rel.components().map(|c| {
            c.as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned()
        });
        let mut module = parts.next().unwrap();
        if module == "shown"
            && let Some(sub @ ("body" | "hero")) = parts.next().as_deref()
        {
            module = format!("shown::{sub}");
        }
        if module == "lib" {
            continue;
        }
        let file = syn::parse_file(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let mut uses = Uses {
            roots: &roots,
            found: BTreeSet::new(),
        };
        // Unit tests may reach anywhere.
        for item in &file.items {
            let is_test = match item {
                syn::Item::Mod(m) => m.attrs.iter().any(|a| {
                    a.path().is_ident("cfg") && quote::quote!(#a).to_string().contains("test")
                }),
                _ => false,
            };
            if !is_test {
                uses.visit_item(item);
            }
        }
        graph.entry(module).or_default().extend(uses.found);
    }
    // The generated client, as its snapshot shows it.
    let snap =
        std::fs::read_to_string(root().join("tests/snapshots/snapshot__generated_client.snap"))
            .unwrap();
    let code = snap.splitn(3, "---\n").nth(2).expect("the snapshot's code");
    let generated = syn::parse_file(code).expect("the generated client parses");
    for item in &generated.items {
        let node = match item {
            syn::Item::Mod(m) if m.ident == "types" => "api::types",
            syn::Item::Mod(m) if m.ident == "spec" => "api::spec",
            _ => "api",
        };
        let mut uses = Uses {
            roots: &roots,
            found: BTreeSet::new(),
        };
        uses.visit_item(item);
        graph.entry(node.to_owned()).or_default().extend(uses.found);
    }
    for (m, deps) in graph.iter_mut() {
        deps.remove(m);
    }
    graph
}

#[test]
fn every_module_uses_only_its_layer_and_lower_ones() {
    let graph = graph();
    let mut wrong = Vec::new();
    for (module, deps) in &graph {
        let Some(layer) = layer_of(module) else {
            wrong.push(format!(
                "`{module}` is in no layer: add it to LAYERS (and src/guide/architecture.md)"
            ));
            continue;
        };
        for dep in deps {
            match layer_of(dep) {
                Some(l) if l <= layer => {}
                Some(l) => wrong.push(format!(
                    "`{module}` ({}) uses `{dep}` ({}), a higher layer",
                    LAYERS[layer].0, LAYERS[l].0
                )),
                None => wrong.push(format!("`{module}` uses `{dep}`, in no layer")),
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every layer's modules exist (a renamed module must be renamed here too).
    for (_, modules) in LAYERS {
        for m in *modules {
            assert!(
                graph.contains_key(*m),
                "`{m}` is in LAYERS but not in the code"
            );
        }
    }
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = graph();
    // Depth-first, with the path kept: a module met again on its own path is a cycle.
    fn visit(
        m: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == m) {
            let mut cycle = path[at..].to_vec();
            cycle.push(m.to_owned());
            return Some(cycle);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_owned());
        for dep in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(dep, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for m in graph.keys() {
        if let Some(cycle) = visit(m, &graph, &mut Vec::new(), &mut done) {
            panic!("an import cycle: {}", cycle.join(" -> "));
        }
    }
}

/// The reader itself: it sees `use crate::{…}` groups, root re-exports, paths in code and in
/// macros, and leaves doc examples and unit tests out.
#[test]
fn the_reader_finds_every_kind_of_path() {
    let lib: syn::File =
        syn::parse_str("pub use error::{Error, ErrorKind}; pub use api::{HeroClient, types};")
            .unwrap();
    let roots = root_names(&lib);
    let code: syn::File = syn::parse_str(
        r#"
        use crate::{shown::body::x, attempt::SendAttempt};
        /// ```
        /// crate::find::nothing();
        /// ```
        fn f() -> crate::Result<crate::types::Message> { crate::HeroClient::go(); g!(crate::wait::w) }
        "#,
    )
    .unwrap();
    let mut uses = Uses {
        roots: &roots,
        found: BTreeSet::new(),
    };
    uses.visit_file(&code);
    let found: Vec<&str> = uses.found.iter().map(String::as_str).collect();
    assert_eq!(
        found,
        [
            "api",
            "api::types",
            "attempt",
            "error",
            "shown::body",
            "wait"
        ]
    );
}
