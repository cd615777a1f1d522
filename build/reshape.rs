//! What build.rs does to progenitor's output: one client type, the crate's `send()` boundary,
//! setter docs and the setters of optional checked fields.

use quote::{format_ident, quote};

#[allow(unused_imports)]
use super::*;

/// Renames every generated `send()` to `send_raw()` and adds a `send()` that returns the crate's
/// `Result<Response<T>>`: the one boundary between progenitor's types and ours, so that it holds for
/// every operation the spec gains.
pub(super) fn own_the_boundary(
    file: &mut syn::File,
) -> std::collections::BTreeMap<String, syn::Type> {
    let builder = module(&mut file.items, "builder");
    let mut sends = std::collections::BTreeMap::new();
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let Some(pos) = imp.items.iter().position(
            |i| matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "send" && f.sig.asyncness.is_some()),
        ) else {
            continue;
        };
        let syn::ImplItem::Fn(raw) = &mut imp.items[pos] else {
            unreachable!()
        };
        let output = response_type(&raw.sig.output)
            .expect("send() returns Result<ResponseValue<T>, Error<()>>");
        let operation = operation_id(&raw.block).expect("send() names its OperationInfo");
        let summary: Vec<syn::Attribute> = raw
            .attrs
            .iter()
            .filter(|a| a.path().is_ident("doc"))
            .cloned()
            .collect();
        raw.sig.ident = format_ident!("send_raw");
        raw.attrs.retain(|a| !a.path().is_ident("doc"));
        let warning = "**Unredacted escape hatch.** Sends the request and returns progenitor's own \
            result: its error's `Display` and `Debug` print raw response bodies, which can hold \
            patient data. Use [`send`](Self::send), which returns [`crate::Error`], unless you \
            need progenitor's types and keep their errors out of every log.";
        raw.attrs.push(syn::parse_quote!(#[doc = #warning]));
        let send: syn::ImplItem = syn::parse_quote! {
            #(#summary)*
            ///
            /// Returns the decoded body with its status and headers, or a redacted
            /// [`crate::Error`] that names this operation (see the crate docs on errors).
            pub async fn send(self) -> crate::Result<crate::Response<#output>> {
                crate::transport::context::call(#operation, self.send_raw()).await
            }
        };
        imp.items.insert(pos, send);
        sends.insert(operation, output);
    }
    assert!(!sends.is_empty(), "no builder send() was found to wrap");
    sends
}

/// `T` of `Result<ResponseValue<T>, Error<()>>`.
pub(super) fn response_type(output: &syn::ReturnType) -> Option<syn::Type> {
    fn first_arg(ty: &syn::Type) -> Option<&syn::Type> {
        let syn::Type::Path(p) = ty else { return None };
        let syn::PathArguments::AngleBracketed(args) = &p.path.segments.last()?.arguments else {
            return None;
        };
        args.args.iter().find_map(|a| match a {
            syn::GenericArgument::Type(t) => Some(t),
            _ => None,
        })
    }
    let syn::ReturnType::Type(_, ty) = output else {
        return None;
    };
    first_arg(first_arg(ty)?).cloned()
}

/// The `operation_id` literal of the `OperationInfo` a generated `send()` builds.
pub(super) fn operation_id(block: &syn::Block) -> Option<String> {
    let text = quote!(#block).to_string();
    let rest = &text[text.find("operation_id :")? + "operation_id :".len()..];
    let start = rest.find('"')? + 1;
    let end = start + rest[start..].find('"')?;
    Some(rest[start..end].to_owned())
}

/// Lets the setter of an optional checked field (`Option<SnomedCode>`, `Option<ContactDetail>`,
/// an optional enum) or optional text (`Option<String>`, `Option<Sensitive>`) take the same inputs
/// as a required one (`"1240751000000100"`, a value, or `None`/`Some(value)`), through
/// `crate::validate::IntoOptional`.
pub(super) fn optional_checked_setters(file: &mut syn::File) {
    let types = module(&mut file.items, "types");
    let builder = module(types, "builder");
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        for f in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = f else { continue };
            let Some(wc) = f.sig.generics.where_clause.as_mut() else {
                continue;
            };
            let mut rewritten = false;
            for pred in wc.predicates.iter_mut() {
                let text = quote!(#pred).to_string().replace(' ', "");
                let Some(inner) = text
                    .strip_prefix("T:::std::convert::TryInto<::std::option::Option<")
                    .and_then(|t| t.strip_suffix(">>"))
                else {
                    continue;
                };
                if !(inner.starts_with("crate::validate::")
                    || inner.starts_with("crate::enums::")
                    || inner == "crate::redact::Sensitive"
                    || inner == "::std::string::String")
                {
                    continue;
                }
                let ty: syn::Type = syn::parse_str(inner).expect("a type path");
                *pred = syn::parse_quote!(T: crate::validate::IntoOptional<#ty>);
                rewritten = true;
            }
            if rewritten {
                let block = &f.block;
                let body = quote!(#block).to_string().replace(
                    "value . try_into ()",
                    "crate :: validate :: IntoOptional :: into_optional (value)",
                );
                f.block = syn::parse_str(&body).expect("the setter's body");
            }
        }
    }
}

/// The docs of the one client type (the generated client, renamed `HeroClient`).
pub(super) const CLIENT_DOC: &str = r#" The Hero client: one method per operation of `openapi.yaml`, each returning a typed request
 builder whose `send()` gives [`crate::Result`]`<`[`crate::Response`]`<T>>`.

 Build it with [`HeroClient::builder`] or [`HeroClient::from_env`]. The handwritten additions are
 inherent methods of this same type: configuration ([`crate::HeroClientBuilder`],
 [`HeroClient::with_timeout`], [`HeroClient::with_retry_policy`]), waiters
 ([`HeroClient::wait_for_delivery`]), registration ([`HeroClient::register_patient`]) and the
 resolution of a send whose outcome is unknown ([`HeroClient::find_send`]). Its `Debug` shows no
 secret. Cloning is cheap and shares the connection pool.

 ```no_run
 use herohealth::{HeroClient, MessageType};

 # async fn run() -> herohealth::Result<()> {
 let hero = HeroClient::from_env()?;
 let sent = hero
     .send_message()
     .body_map(|b| {
         b.patient_id("98765")
             .message_type(MessageType::Sms)
             .message_string("Your test results are ready.")
     })
     .send()
     .await?;
 let status = hero.get_message_status().id(&sent.message_id).send().await?;
 println!("{}", status.status.response);
 # Ok(()) }
 ```"#;

/// progenitor's `Client` becomes the crate's one client type, `HeroClient`: its own docs, no
/// derived `Debug` (the handwritten one shows no secret) and no public constructor that would skip
/// the builder's safety settings (no redirects, https-only off loopback).
pub(super) fn one_client_type(file: &mut syn::File) {
    let mut found = false;
    for item in file.items.iter_mut() {
        match item {
            syn::Item::Struct(s) if s.ident == "Client" => {
                s.attrs.clear();
                for line in CLIENT_DOC.lines() {
                    s.attrs.push(syn::parse_quote!(#[doc = #line]));
                }
                s.attrs.push(syn::parse_quote!(#[derive(Clone)]));
                found = true;
            }
            syn::Item::Impl(imp)
                if imp.trait_.is_none() && {
                    let ty = &imp.self_ty;
                    quote!(#ty).to_string() == "Client"
                } =>
            {
                imp.items
                    .retain(|i| !matches!(i, syn::ImplItem::Fn(f) if f.sig.ident == "new"));
                for i in imp.items.iter_mut() {
                    if let syn::ImplItem::Fn(f) = i
                        && f.sig.ident == "new_with_client"
                    {
                        f.vis = syn::parse_quote!(pub(crate));
                        f.attrs.retain(|a| !a.path().is_ident("doc"));
                    }
                }
            }
            _ => {}
        }
    }
    assert!(found, "progenitor's `Client` struct");
}

/// Renames the generated `Client` to `HeroClient` in the code and its docs (`reqwest::Client`
/// stays).
pub(super) fn rename_client(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + 4096);
    let mut rest = code;
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

/// Docs on every request builder's setters (progenitor writes none): each parameter's
/// `description` from the spec with its place and whether it is required, and what `body` and
/// `body_map` take.
pub(super) fn document_setters(file: &mut syn::File, operations: &[OperationFact]) {
    use heck::ToUpperCamelCase;
    let builder = module(&mut file.items, "builder");
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let ty = &imp.self_ty;
        let ty = quote!(#ty).to_string().replace(' ', "");
        let Some(op) = operations
            .iter()
            .find(|o| ty == format!("{}<'a>", o.id.to_upper_camel_case()))
        else {
            continue;
        };
        for f in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = f else { continue };
            let name = f.sig.ident.to_string();
            if f.attrs.iter().any(|a| a.path().is_ident("doc")) {
                continue;
            }
            let doc = match name.as_str() {
                "new" => "A request with nothing set; prefer the client's method of the same \
                    operation."
                    .to_owned(),
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
}

/// The items of the inline module `name` among `items` (progenitor's `builder` and `types`,
/// typify's `types::builder`).
pub(super) fn module<'a>(items: &'a mut [syn::Item], name: &str) -> &'a mut Vec<syn::Item> {
    items
        .iter_mut()
        .find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == name => m.content.as_mut().map(|(_, items)| items),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the generated `{name}` module"))
}

/// Gives every operation setter's error its reason. progenitor's setters drop the conversion's
/// error (`conversion to `…` for sent_at failed`); here each keeps it, after the field's name
/// (`sent_at: the range ends before it starts`, `page_size: …`), and the setter requires the error
/// to be `Display` (every checked type's error is, and none holds the refused value).
pub(super) fn name_setter_errors(file: &mut syn::File) {
    let builder = module(&mut file.items, "builder");
    let mut named = 0;
    for item in builder.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        for f in imp.items.iter_mut() {
            let syn::ImplItem::Fn(f) = f else { continue };
            let block = f.block.clone();
            let text = quote!(#block).to_string();
            let Some(start) = text.find("| _ | \"conversion to `") else {
                continue;
            };
            let tail = &text[start..];
            let end = tail
                .find("failed\" . to_string ()")
                .expect("progenitor's setter error ends `failed\".to_string()`")
                + "failed\" . to_string ()".len();
            let field = tail[..end]
                .rsplit_once(" for ")
                .and_then(|(_, rest)| rest.strip_suffix(" failed\" . to_string ()"))
                .expect("progenitor's setter error names its field");
            let fixed = format!(
                "{}| e | format ! (\"{{}}: {{}}\" , \"{field}\" , e){}",
                &text[..start],
                &tail[end..]
            );
            f.block = syn::parse_str(&fixed).expect("the setter still parses");
            let param = f
                .sig
                .generics
                .type_params()
                .next()
                .expect("a setter generic over its value")
                .ident
                .clone();
            f.sig
                .generics
                .make_where_clause()
                .predicates
                .push(syn::parse_quote!(#param::Error: std::fmt::Display));
            named += 1;
        }
    }
    assert!(named > 0, "no operation setter's error was found to name");
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
