//! The seam between progenitor and the crate: progenitor builds each request, the crate runs it.
//!
//! Every builder's generated `send()` is cut at the statement level: the statements up to the one
//! that binds `request` (the URL, the query, the JSON body, `reqwest::RequestBuilder::build`)
//! become `fn into_request(self) -> Result<(reqwest::Request, Body), progenitor_client::Error>`,
//! which returns the typed body too (or `()`); the rest (progenitor's hooks, its status match and
//! its decoding) is dropped, and a new `send()` hands both to `crate::transport::execute`. Every
//! rewrite is done on typed syntax nodes and counted: a rewrite that finds less than it expects
//! fails the build.

use std::collections::BTreeMap;

use quote::{format_ident, quote};
use syn::visit::Visit;
use syn::visit_mut::VisitMut;

use super::model::{Model, module};

/// What the cut found of one operation's builder.
pub(super) struct Send {
    /// `T` of `ResponseValue<T>`: what `send()` decodes.
    pub(super) response: syn::Type,
}

/// Cuts every builder's `send()` (see the module docs). Returns each operation's response type,
/// by snake_case operation id.
pub(super) fn cut_requests(file: &mut syn::File, model: &Model) -> BTreeMap<String, Send> {
    let builder = module(&mut file.items, "builder");
    // The typed body of each builder: `B` of its `body()` setter's `V: TryInto<B>` bound (the
    // builder's own field may hold typify's body builder instead).
    let mut bodies: BTreeMap<String, syn::Type> = BTreeMap::new();
    for item in builder.iter() {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(p) = &*imp.self_ty else {
            continue;
        };
        let name = p.path.segments.last().unwrap().ident.to_string();
        for f in &imp.items {
            let syn::ImplItem::Fn(f) = f else { continue };
            if f.sig.ident != "body" {
                continue;
            }
            let bound = f
                .sig
                .generics
                .where_clause
                .iter()
                .flat_map(|w| w.predicates.iter())
                .find_map(|pred| {
                    let syn::WherePredicate::Type(t) = pred else {
                        return None;
                    };
                    t.bounds.iter().find_map(|b| match b {
                        syn::TypeParamBound::Trait(t)
                            if t.path.segments.last()?.ident == "TryInto" =>
                        {
                            let syn::PathArguments::AngleBracketed(args) =
                                &t.path.segments.last()?.arguments
                            else {
                                return None;
                            };
                            args.args.iter().find_map(|a| match a {
                                syn::GenericArgument::Type(ty) => Some(ty.clone()),
                                _ => None,
                            })
                        }
                        _ => None,
                    })
                })
                .expect("body() takes `V: TryInto<B>`");
            bodies.insert(name.clone(), bound);
        }
    }
    let mut sends = BTreeMap::new();
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let Some(pos) = imp.items.iter().position(
            |i| matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "send" && f.sig.asyncness.is_some()),
        ) else {
            continue;
        };
        let syn::ImplItem::Fn(generated) = &imp.items[pos] else {
            unreachable!()
        };
        let builder_name = match &*imp.self_ty {
            syn::Type::Path(p) => p.path.segments.last().unwrap().ident.to_string(),
            _ => panic!("a builder impl is for a path type"),
        };
        let response = first_type_arg(
            first_type_arg(match &generated.sig.output {
                syn::ReturnType::Type(_, ty) => ty,
                syn::ReturnType::Default => panic!("send() returns a Result"),
            })
            .expect("send() returns Result<ResponseValue<T>, Error<()>>"),
        )
        .expect("ResponseValue<T>")
        .clone();
        let operation = operation_id(&generated.block).expect("send() names its OperationInfo");
        let (index, fact) = model
            .operations
            .iter()
            .enumerate()
            .find(|(_, o)| o.id == operation)
            .unwrap_or_else(|| panic!("send() of {operation}, an operation the spec lacks"));
        let success = success_codes(&generated.block);
        assert_eq!(
            success, fact.success,
            "{operation}: progenitor's status match and the spec's 2xx responses differ"
        );

        // The statements up to the one that binds `request`, without the `api-version` header.
        let stmts = &generated.block.stmts;
        let cut = stmts
            .iter()
            .position(|s| binds(s, "request"))
            .unwrap_or_else(|| panic!("{operation}: no `let request = ...` in send()"));
        let mut kept: Vec<syn::Stmt> = Vec::new();
        let mut version_headers = 0;
        for stmt in &stmts[..=cut] {
            if sets_api_version(stmt) {
                version_headers += 1;
                continue;
            }
            kept.push(stmt.clone());
        }
        assert_eq!(
            version_headers, 1,
            "{operation}: expected one `api-version` header statement in send()"
        );
        let body_ty = bodies.get(&builder_name);
        let (body_ty, body_value) = match body_ty {
            Some(ty) => (quote!(#ty), quote!(body)),
            None => (quote!(()), quote!(())),
        };
        let docs: Vec<syn::Attribute> = generated
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .cloned()
            .collect();
        let decode = if is_unit(&response) {
            quote!(crate::transport::decode_empty)
        } else {
            quote!(crate::transport::decode_json::<#response>)
        };
        let send: syn::ImplItem = syn::parse_quote! {
            #(#docs)*
            ///
            /// Returns the decoded body with its status and headers, or one [`crate::Error`] that
            /// names this operation and shows no patient data.
            pub async fn send(self) -> crate::Result<crate::Response<#response>> {
                let client = self.client;
                crate::transport::execute(
                    &client.client,
                    &client.inner,
                    &crate::api::spec::OPERATIONS[#index],
                    self.into_request(),
                    #decode,
                )
                .await
            }
        };
        let into_request: syn::ImplItem = syn::parse_quote! {
            /// The request, built by progenitor's own code (URL, query, JSON body), with its typed
            /// body: what [`send`](Self::send) hands to the crate's executor.
            #[allow(unused_mut)]
            fn into_request(self) -> Result<(reqwest::Request, #body_ty), progenitor_client::Error> {
                #(#kept)*
                Ok((request, #body_value))
            }
        };
        imp.items[pos] = send;
        imp.items.insert(pos + 1, into_request);
        sends.insert(operation, Send { response });
    }
    assert_eq!(
        sends.len(),
        model.operations.len(),
        "every operation's builder send() is cut"
    );
    sends
}

/// The statement `let [mut] NAME = ...;`.
fn binds(stmt: &syn::Stmt, name: &str) -> bool {
    let syn::Stmt::Local(local) = stmt else {
        return false;
    };
    matches!(&local.pat, syn::Pat::Ident(p) if p.ident == name)
}

/// `header_map.append(HeaderName::from_static("api-version"), ...);`: progenitor's version header,
/// which Hero does not define.
fn sets_api_version(stmt: &syn::Stmt) -> bool {
    let syn::Stmt::Expr(syn::Expr::MethodCall(call), _) = stmt else {
        return false;
    };
    if call.method != "append" {
        return false;
    }
    let Some(syn::Expr::Call(name)) = call.args.first() else {
        return false;
    };
    matches!(
        name.args.first(),
        Some(syn::Expr::Lit(syn::ExprLit { lit: syn::Lit::Str(s), .. })) if s.value() == "api-version"
    )
}

/// The `operation_id` of the `OperationInfo { operation_id: "..." }` a generated `send()` builds.
fn operation_id(block: &syn::Block) -> Option<String> {
    struct Find(Option<String>);
    impl<'ast> Visit<'ast> for Find {
        fn visit_expr_struct(&mut self, s: &'ast syn::ExprStruct) {
            if s.path
                .segments
                .last()
                .is_some_and(|p| p.ident == "OperationInfo")
            {
                for f in &s.fields {
                    if let (
                        syn::Member::Named(n),
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(v),
                            ..
                        }),
                    ) = (&f.member, &f.expr)
                        && n == "operation_id"
                    {
                        self.0 = Some(v.value());
                    }
                }
            }
            syn::visit::visit_expr_struct(self, s);
        }
    }
    let mut find = Find(None);
    find.visit_block(block);
    find.0
}

/// The integer patterns of the arms of `match response.status().as_u16() { ... }`.
fn success_codes(block: &syn::Block) -> Vec<u16> {
    let Some(syn::Stmt::Expr(syn::Expr::Match(m), _)) = block.stmts.last() else {
        panic!("send() ends with its status match")
    };
    m.arms
        .iter()
        .filter_map(|arm| match &arm.pat {
            syn::Pat::Lit(syn::PatLit {
                lit: syn::Lit::Int(i),
                ..
            }) => Some(i.base10_parse::<u16>().expect("a status code")),
            _ => None,
        })
        .collect()
}

/// The first type argument of the last path segment: `T` of `Result<T, E>`.
fn first_type_arg(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(p) = ty else { return None };
    let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
        return None;
    };
    args.args.iter().find_map(|a| match a {
        syn::GenericArgument::Type(t) => Some(t),
        _ => None,
    })
}

fn is_unit(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Tuple(t) if t.elems.is_empty())
}

/// No public progenitor plumbing: `progenitor_client`'s re-exports become private imports, and the
/// `ClientInfo` and `ClientHooks` impls (through which a caller could have run a request with the
/// client's credentials) and progenitor's `prelude` are removed. Returns nothing; counts.
pub(super) fn private_plumbing(file: &mut syn::File) {
    let mut made_private = 0;
    let mut removed = 0;
    file.items.retain_mut(|item| match item {
        syn::Item::Use(u) if matches!(u.vis, syn::Visibility::Public(_)) => {
            u.vis = syn::Visibility::Inherited;
            made_private += 1;
            true
        }
        syn::Item::Impl(imp)
            if imp.trait_.as_ref().is_some_and(|(_, path, _)| {
                path.segments
                    .last()
                    .is_some_and(|s| s.ident == "ClientInfo" || s.ident == "ClientHooks")
            }) =>
        {
            removed += 1;
            false
        }
        syn::Item::Mod(m) if m.ident == "prelude" => {
            removed += 1;
            false
        }
        _ => true,
    });
    assert_eq!(
        made_private, 1,
        "progenitor's one `pub use progenitor_client::{{..}}`"
    );
    assert_eq!(
        removed, 3,
        "the ClientInfo impl, the ClientHooks impl and the prelude"
    );
    // The builders' own imports name what is gone; they keep what into_request uses.
    let builder = module(&mut file.items, "builder");
    let mut trimmed = 0;
    for item in builder.iter_mut() {
        if let syn::Item::Use(u) = item
            && quote!(#u).to_string().contains("ClientHooks")
        {
            *u = syn::parse_quote! {
                #[allow(unused_imports)]
                use progenitor_client::{encode_path, Error, RequestBuilderExt};
            };
            trimmed += 1;
        }
    }
    assert_eq!(
        trimmed, 1,
        "the builder module's import of progenitor's names"
    );
    let mut top = 0;
    for item in file.items.iter_mut() {
        if let syn::Item::Use(u) = item
            && quote!(#u).to_string().contains("ClientHooks")
        {
            *u = syn::parse_quote! {
                #[allow(unused_imports)]
                use progenitor_client::{encode_path, RequestBuilderExt};
            };
            top += 1;
        }
    }
    assert_eq!(top, 1, "the top-level import of progenitor's hooks");
}

/// Builders are made by the client's methods only: each builder's `new` becomes `pub(crate)`.
pub(super) fn private_builder_constructors(file: &mut syn::File, operations: usize) {
    let builder = module(&mut file.items, "builder");
    let mut n = 0;
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        for i in imp.items.iter_mut() {
            if let syn::ImplItem::Fn(f) = i
                && f.sig.ident == "new"
            {
                f.vis = syn::parse_quote!(pub(crate));
                f.attrs.retain(|a| !a.path().is_ident("doc"));
                n += 1;
            }
        }
    }
    assert_eq!(n, operations, "one builder constructor per operation");
}

/// progenitor's `Client` becomes `HeroClient` everywhere: every path segment and item named
/// `Client` (not `reqwest::Client`), and the word in doc comments. Returns how many were renamed.
pub(super) fn rename_client(file: &mut syn::File) -> usize {
    struct Rename(usize);
    impl VisitMut for Rename {
        fn visit_path_mut(&mut self, p: &mut syn::Path) {
            let mut after_reqwest = false;
            for seg in p.segments.iter_mut() {
                if seg.ident == "Client" && !after_reqwest {
                    seg.ident = format_ident!("HeroClient");
                    self.0 += 1;
                }
                after_reqwest = seg.ident == "reqwest";
            }
            syn::visit_mut::visit_path_mut(self, p);
        }
        fn visit_item_struct_mut(&mut self, s: &mut syn::ItemStruct) {
            if s.ident == "Client" {
                s.ident = format_ident!("HeroClient");
                self.0 += 1;
            }
            syn::visit_mut::visit_item_struct_mut(self, s);
        }
        fn visit_attribute_mut(&mut self, a: &mut syn::Attribute) {
            if a.path().is_ident("doc")
                && let syn::Meta::NameValue(nv) = &mut a.meta
                && let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(s),
                    ..
                }) = &nv.value
            {
                let renamed = rename_word(&s.value());
                if renamed != s.value() {
                    nv.value = syn::parse_quote!(#renamed);
                    self.0 += 1;
                }
            }
        }
    }
    let mut r = Rename(0);
    r.visit_file_mut(file);
    r.0
}

/// The word `Client` (not `reqwest::Client`, not part of a longer word) as `HeroClient`.
fn rename_word(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 64);
    let mut rest = text;
    while let Some(at) = rest.find("Client") {
        let (before, after) = rest.split_at(at);
        out.push_str(before);
        let prev = out.chars().next_back();
        let next = after["Client".len()..].chars().next();
        let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
        if !word(prev) && !word(next) && !out.ends_with("reqwest::") {
            out.push_str("HeroClient");
        } else {
            out.push_str("Client");
        }
        rest = &after["Client".len()..];
    }
    out.push_str(rest);
    out
}
