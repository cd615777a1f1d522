//! What build.rs does to progenitor's output besides the seam (`seam.rs`): one client type, setter
//! docs, and the setters of optional checked fields. Every
//! pass works on typed syntax nodes and counts what it rewrote: one that finds nothing fails the
//! build.

use quote::quote;
use syn::visit_mut::VisitMut;

use super::{model::module, operations::OperationFact};

/// Lets the setter of an optional checked field (`Option<SnomedCode>`, `Option<ContactDetail>`,
/// an optional enum, an optional constrained string such as `ehr_file_id`'s
/// `CreateAttachmentLinkRequestEhrFileId`) or optional text (`Option<String>`, `Option<Sensitive>`)
/// take the same inputs as a required one (`"1240751000000100"`, `"f-1"`, a `String`, a value, or
/// `None`/`Some(value)`), through `crate::validate::IntoOptional`. A constrained string's
/// `IntoOptional` impls are emitted beside it (`crate::validate::into_optional!`): its text is
/// checked by its own `FromStr` (the spec's `minLength`, `pattern`), a refusal naming the field.
pub(super) fn optional_checked_setters(file: &mut syn::File) {
    let types = module(&mut file.items, "types");
    // progenitor's newtypes of a constrained string: `pub struct X(::std::string::String);`.
    let strings: Vec<String> = types
        .iter()
        .filter_map(|item| match item {
            syn::Item::Struct(s)
                if matches!(&s.fields, syn::Fields::Unnamed(f) if f.unnamed.len() == 1
                    && quote!(#f).to_string().replace(' ', "") == "(::std::string::String)") =>
            {
                Some(s.ident.to_string())
            }
            _ => None,
        })
        .collect();
    let mut taken: Vec<String> = Vec::new();
    let builder = module(types, "builder");
    let mut rewritten = 0;
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        for f in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = f else { continue };
            let Some(wc) = f.sig.generics.where_clause.as_mut() else {
                continue;
            };
            let mut this = false;
            for pred in wc.predicates.iter_mut() {
                let Some(inner) = optional_try_into(pred, &strings) else {
                    continue;
                };
                if let syn::Type::Path(p) = &inner
                    && p.path.segments.len() == 2
                    && p.path.segments[0].ident == "super"
                {
                    taken.push(p.path.segments[1].ident.to_string());
                }
                *pred = syn::parse_quote!(T: crate::validate::IntoOptional<#inner>);
                this = true;
            }
            if this {
                // `value.try_into()` becomes `IntoOptional::into_optional(value)`: exactly one.
                struct Call(usize);
                impl VisitMut for Call {
                    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
                        if let syn::Expr::MethodCall(m) = e
                            && m.method == "try_into"
                            && m.args.is_empty()
                            && matches!(&*m.receiver, syn::Expr::Path(p) if p.path.is_ident("value"))
                        {
                            *e = syn::parse_quote!(crate::validate::IntoOptional::into_optional(
                                value
                            ));
                            self.0 += 1;
                            return;
                        }
                        syn::visit_mut::visit_expr_mut(self, e);
                    }
                }
                let mut call = Call(0);
                call.visit_block_mut(&mut f.block);
                assert_eq!(
                    call.0, 1,
                    "{}: one `value.try_into()` to rewrite",
                    f.sig.ident
                );
                rewritten += 1;
            }
        }
    }
    assert!(
        rewritten > 0,
        "no optional checked setter was found to rewrite"
    );
    assert!(
        taken
            .iter()
            .any(|t| t == "CreateAttachmentLinkRequestEhrFileId"),
        "ehr_file_id's setter takes text (issue 40)"
    );
    taken.sort();
    taken.dedup();
    for name in taken {
        let ident = syn::Ident::new(&name, proc_macro2::Span::call_site());
        types.push(syn::parse_quote!(crate::validate::into_optional!(#ident);));
    }
}

/// `X` of a predicate `T: ::std::convert::TryInto<::std::option::Option<X>>` where `X` is a
/// checked value (`crate::validate::*`), an open enum (`crate::enums::*`), `Sensitive`, `String`
/// or one of `strings`, the generated newtypes of a constrained string (`super::X`).
fn optional_try_into(pred: &syn::WherePredicate, strings: &[String]) -> Option<syn::Type> {
    let syn::WherePredicate::Type(p) = pred else {
        return None;
    };
    if !matches!(&p.bounded_ty, syn::Type::Path(t) if t.path.is_ident("T")) {
        return None;
    }
    let Some(syn::TypeParamBound::Trait(bound)) = p.bounds.first() else {
        return None;
    };
    let last = bound.path.segments.last()?;
    if last.ident != "TryInto" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    let Some(syn::GenericArgument::Type(syn::Type::Path(option))) = args.args.first() else {
        return None;
    };
    let option = option.path.segments.last()?;
    if option.ident != "Option" {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &option.arguments else {
        return None;
    };
    let Some(syn::GenericArgument::Type(syn::Type::Path(inner))) = args.args.first() else {
        return None;
    };
    let segments: Vec<String> = inner
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let checked = match segments.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["crate", "validate", _]
        | ["crate", "enums", _]
        | ["crate", "shown", "Sensitive"]
        | ["std", "string", "String"] => true,
        ["super", name] => strings.iter().any(|s| s == name),
        _ => false,
    };
    checked.then(|| syn::Type::Path(inner.clone()))
}

/// progenitor's `Client` becomes the crate's one client type, `HeroClient`: its own docs, no
/// derived `Debug` (the handwritten one shows no secret) and no public constructor that would skip
/// the builder's safety settings (no redirects, https-only off loopback).
pub(super) fn one_client_type(file: &mut syn::File) {
    let mut found = false;
    let mut constructors = 0;
    for item in file.items.iter_mut() {
        match item {
            syn::Item::Struct(s) if s.ident == "Client" => {
                s.attrs.clear();
                // The docs live beside the handwritten half of the type.
                s.attrs.push(syn::parse_quote!(
                    #[doc = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/src/hero_client.md"))]
                ));
                s.attrs.push(syn::parse_quote!(#[derive(Clone)]));
                found = true;
            }
            syn::Item::Impl(imp)
                if imp.trait_.is_none()
                    && matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.is_ident("Client")) =>
            {
                let before = imp.items.len();
                imp.items
                    .retain(|i| !matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
                constructors += before - imp.items.len();
                for i in imp.items.iter_mut() {
                    if let syn::ImplItem::Fn(f) = i
                        && f.sig.ident == "new_with_client"
                    {
                        f.vis = syn::parse_quote!(pub(crate));
                        f.attrs.retain(|a| !a.path().is_ident("doc"));
                        constructors += 1;
                    }
                }
            }
            _ => {}
        }
    }
    assert!(found, "progenitor's `Client` struct");
    assert_eq!(
        constructors, 2,
        "`Client::new` removed, `new_with_client` made crate-private"
    );
}

/// Docs on every request builder's setters (progenitor writes none): each parameter's
/// `description` from the spec with its place and whether it is required, and what `body` and
/// `body_map` take.
pub(super) fn document_setters(file: &mut syn::File, operations: &[OperationFact]) {
    use heck::ToUpperCamelCase;
    let builder = module(&mut file.items, "builder");
    let mut matched = 0;
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(ty) = &*imp.self_ty else {
            continue;
        };
        let Some(ty) = ty.path.segments.last() else {
            continue;
        };
        let Some(op) = operations
            .iter()
            .find(|o| ty.ident == o.id.to_upper_camel_case())
        else {
            continue;
        };
        matched += 1;
        for f in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = f else { continue };
            let name = f.sig.ident.to_string();
            if f.attrs.iter().any(|a| a.path().is_ident("doc")) {
                continue;
            }
            let doc = match name.as_str() {
                "body" => "The request body, whole: a value of the body type, or what converts \
                    into it: its builder (`types::builder::...`) for a struct body, one of its \
                    variants' types for a body that is one of several shapes (build a variant's \
                    builder into its type first, with `try_into()?`)."
                    .to_owned(),
                "body_map" => "Sets the request body's fields through its builder: \
                    `.body_map(|b| b.field(value))`. Fields the builder checks (NHS numbers, \
                    patient ids, SNOMED codes, contact details) fail `send()` with an error that \
                    names the field, before anything is sent."
                    .to_owned(),
                _ => match op.params.iter().find(|(setter, _)| *setter == name) {
                    Some((_, doc)) => doc.clone(),
                    None => continue,
                },
            };
            for line in doc.lines() {
                let line = format!(" {line}");
                f.attrs.push(syn::parse_quote!(#[doc = #line]));
            }
        }
    }
    assert_eq!(
        matched,
        operations.len(),
        "every operation's builder is documented"
    );
}

/// Documents every setter of the body types' builders (`types::builder::SendMessageRequest`,
/// ...) with the doc of the field it sets, so that `.recipient_contact_detail(..)` is found on the
/// builder a user is holding, not only on the struct.
pub(super) fn document_type_builders(file: &mut syn::File) {
    let types = module(&mut file.items, "types");
    let mut fields: std::collections::BTreeMap<(String, String), Vec<syn::Attribute>> =
        Default::default();
    for item in types.iter() {
        let syn::Item::Struct(s) = item else { continue };
        for f in &s.fields {
            let Some(name) = &f.ident else { continue };
            let docs: Vec<syn::Attribute> = f
                .attrs
                .iter()
                .filter(|a| a.path().is_ident("doc"))
                .cloned()
                .collect();
            let docs = if docs.is_empty() {
                // A field whose schema is a `$ref` has its doc on the type: point there.
                let line = format!(" Sets `{name}`: {}.", type_doc(&f.ty));
                vec![syn::parse_quote!(#[doc = #line])]
            } else {
                docs
            };
            fields.insert((s.ident.to_string(), name.to_string()), docs);
        }
    }
    let builder = module(types, "builder");
    let mut documented = 0;
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(ty) = &*imp.self_ty else {
            continue;
        };
        let Some(ty) = ty.path.segments.last().map(|s| s.ident.to_string()) else {
            continue;
        };
        for f in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = f else { continue };
            if f.attrs.iter().any(|a| a.path().is_ident("doc")) {
                continue;
            }
            if let Some(docs) = fields.get(&(ty.clone(), f.sig.ident.to_string())) {
                f.attrs.extend(docs.iter().cloned());
                documented += 1;
            }
        }
    }
    assert!(documented > 0, "no body builder setter was documented");
}

/// How a builder setter's doc names a field's type: a link for the crate's own types (through an
/// `Option` too), the type in code otherwise.
fn type_doc(ty: &syn::Type) -> String {
    let syn::Type::Path(p) = ty else {
        return format!("`{}`", plain(ty));
    };
    let last = p.path.segments.last().expect("a type path has a segment");
    if last.ident == "Option"
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return format!("{} (optional)", type_doc(inner));
    }
    let path: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let generic = !matches!(last.arguments, syn::PathArguments::None);
    match path.first().map(String::as_str) {
        Some("crate") if !generic => format!("a [`{}`]({})", last.ident, path.join("::")),
        Some(first) if path.len() == 1 && !generic && first.starts_with(char::is_uppercase) => {
            format!("a [`{first}`](super::{first})")
        }
        _ => format!("`{}`", plain(ty)),
    }
}

/// A type as a reader writes it (`Vec<DateTime<Utc>>`, not `::std::vec::Vec<::chrono::...>`).
fn plain(ty: &syn::Type) -> String {
    let mut text = quote!(#ty).to_string().replace(' ', "");
    for prefix in [
        "::std::string::",
        "::std::vec::",
        "::std::option::",
        "::std::collections::",
        "::chrono::offset::",
        "::chrono::naive::",
        "::chrono::",
    ] {
        text = text.replace(prefix, "");
    }
    text
}

/// A compiled example on every operation method of the client, in place of progenitor's
/// `ignore`d sample: the builder with its path parameters and body, `send()`, `?`, and for a
/// paged list the stream. Returns how many.
pub(super) fn operation_examples(file: &mut syn::File, operations: &[OperationFact]) -> usize {
    use heck::ToUpperCamelCase;
    // The builders whose body has a builder of its own (`body_map`); a body of several shapes
    // (one of) is set whole with `body`.
    let mut mapped = std::collections::BTreeSet::new();
    for item in module(&mut file.items, "builder").iter() {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(p) = &*imp.self_ty else {
            continue;
        };
        if imp
            .items
            .iter()
            .any(|i| matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "body_map"))
        {
            mapped.insert(p.path.segments.last().unwrap().ident.to_string());
        }
    }
    let mut written = 0;
    for item in file.items.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        if imp.trait_.is_some()
            || !matches!(&*imp.self_ty, syn::Type::Path(p) if p.path.is_ident("Client"))
        {
            continue;
        }
        for f in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = f else { continue };
            let Some(op) = operations.iter().find(|o| f.sig.ident == o.id) else {
                continue;
            };
            for attr in f.attrs.iter_mut() {
                if !attr.path().is_ident("doc") {
                    continue;
                }
                let syn::Meta::NameValue(nv) = &mut attr.meta else {
                    continue;
                };
                let syn::Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(doc),
                    ..
                }) = &nv.value
                else {
                    continue;
                };
                let text = doc.value();
                let Some(start) = text.find("```ignore") else {
                    continue;
                };
                let mut call = format!("hero.{}()", op.id);
                for p in &op.path_params {
                    call.push_str(&format!(".{p}(\"1\")"));
                }
                if op.has_body && mapped.contains(&op.id.to_upper_camel_case()) {
                    call.push_str(".body_map(|b| b /* the body's fields */)");
                } else if op.has_body {
                    call.push_str(" /* .body(the body, one of its shapes) */");
                }
                let example = if op.paged.is_some() {
                    format!(
                        "```no_run\nuse futures::TryStreamExt;\nuse herohealth::Paginate;\n\
                         # async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {{\n\
                         let page = {call}.send().await?;\n\
                         // or every item of every page, fetched as they are read:\n\
                         let all: Vec<_> = {call}.stream().try_collect().await?;\n\
                         # let _ = (page, all); Ok(()) }}\n```"
                    )
                } else {
                    format!(
                        "```no_run\n# async fn run(hero: herohealth::HeroClient) -> herohealth::Result<()> {{\n\
                         let answer = {call}.send().await?;\n\
                         # let _ = answer; Ok(()) }}\n```"
                    )
                };
                let rewritten = format!("{}{example}", &text[..start]);
                nv.value = syn::parse_quote!(#rewritten);
                written += 1;
            }
        }
    }
    assert_eq!(
        written,
        operations.len(),
        "every operation method's example (progenitor's ```ignore block) is rewritten"
    );
    written
}
