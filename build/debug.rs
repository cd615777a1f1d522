//! What every generated type shows, by structure: one policy per field, decided by the field's
//! type and the spec, never by what the value looks like, written once as `crate::Shown` (the JSON
//! `hero` prints); the type's `Debug` prints that same value (`crate::shown::debug::fmt_shown`).
//!
//! - Text is masked (`<redacted>`) unless the spec declares the field an id (the property refers
//!   to a schema with `x-herohealth-id`), and an id is shown only in its kind's declared form
//!   (`…` otherwise): a name, a URL, a message, a token or an unknown value never prints.
//! - A property the spec marks `x-herohealth-patient-data` (a date of birth) is masked whatever
//!   its type; other timestamps, numbers, booleans and the crate's own types show as their own
//!   `Shown` says (the checked values, `Sensitive` and the open enums mask themselves).
//! - JSON values and maps are masked whole.
//! - Builders (the operation builders and the body types' builders) print their name only.
//!
//! The derived `Debug` is removed from each of these types and an impl written in its place;
//! the counts are checked, so a type progenitor emits in another shape fails the build.

use std::collections::{BTreeMap, BTreeSet};

use quote::quote;

use super::model::module;

/// How one field shows.
enum Policy {
    /// As its own type's `Shown` says.
    Shown,
    /// `<redacted>`, keeping only the shape (`null`, a list item by item); or, given the
    /// `crate::ids` static of the id the field holds, the id when it has its kind's declared form,
    /// else `…`.
    Masked(Option<syn::Ident>),
}

/// `(type, field) -> id schema` of every field that holds an id (`Model::id_fields`).
pub(super) type IdFields = BTreeMap<(String, String), String>;

/// The schema a generated struct is of: its own name, less the `Inner` typify adds to the object
/// of a nullable schema (`Campaign(Option<CampaignInner>)`).
fn schema_of(name: &str) -> String {
    name.strip_suffix("Inner").unwrap_or(name).to_owned()
}

/// The `crate::ids` static of an id schema (`MessageId` -> `MESSAGE_ID`).
pub(super) fn id_static(schema: &str) -> syn::Ident {
    use heck::ToShoutySnakeCase;
    quote::format_ident!("{}", schema.to_shouty_snake_case())
}

/// Writes `impl crate::Shown` for every generated type of `types` and, in place of its derived
/// `Debug`, one that prints that same value; the builders print their name only (see the module
/// docs). `patient_data` are the property names the spec marks as patient data. Returns how many
/// impls were written.
pub(super) fn shown_and_debug(
    file: &mut syn::File,
    patient_data: &BTreeSet<String>,
    id_fields: &IdFields,
) -> usize {
    let types = module(&mut file.items, "types");
    let mut impls: Vec<syn::Item> = Vec::new();
    let mut debug = 0;
    for item in types.iter_mut() {
        let (ident, shown, attrs, derived_kept) = match item {
            syn::Item::Struct(s) => (
                s.ident.clone(),
                struct_shown(s, patient_data, id_fields),
                &mut s.attrs,
                false,
            ),
            // A closed enum of unit variants keeps its derived `Debug`: a value the spec lists.
            syn::Item::Enum(e) => (
                e.ident.clone(),
                enum_shown(e),
                &mut e.attrs,
                e.variants.iter().all(|v| v.fields.is_empty()),
            ),
            _ => continue,
        };
        impls.push(syn::parse_quote! {
            impl crate::shown::json::Shown for #ident {
                fn shown(&self) -> ::serde_json::Value {
                    #shown
                }
            }
        });
        if !derived_kept && drop_derived_debug(attrs) {
            let name = ident.to_string();
            impls.push(syn::parse_quote! {
                impl ::std::fmt::Debug for #ident {
                    fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        crate::shown::debug::fmt_shown(f, #name, &crate::shown::json::Shown::shown(self))
                    }
                }
            });
            debug += 1;
        }
    }
    let shown = impls.len() - debug;
    assert!(
        shown > 40 && debug > 40,
        "the generated types' Shown ({shown}) and Debug ({debug}) impls"
    );
    types.extend(impls);
    let body_builders = builders_print_their_name(module(types, "builder"));
    let builders = builders_print_their_name(module(&mut file.items, "builder"));
    shown + debug + body_builders + builders
}

/// What a struct shows: its named fields as a JSON object, each by its [`Policy`], under the
/// names serde gives them; a newtype as its one field.
fn struct_shown(
    s: &syn::ItemStruct,
    patient_data: &BTreeSet<String>,
    id_fields: &IdFields,
) -> proc_macro2::TokenStream {
    match &s.fields {
        syn::Fields::Named(fields) => {
            let schema = schema_of(&s.ident.to_string());
            let entries = fields.named.iter().map(|f| {
                let field = f.ident.as_ref().expect("a named field");
                let label = field.to_string();
                let id = id_fields.get(&(schema.clone(), label.clone()));
                let value = shown_value(
                    &policy(&f.ty, patient_data.contains(&label), id),
                    quote!(self.#field),
                );
                let key = json_name(f);
                quote!(m.insert(#key.to_owned(), #value);)
            });
            quote! {
                let mut m = ::serde_json::Map::new();
                #(#entries)*
                ::serde_json::Value::Object(m)
            }
        }
        syn::Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
            shown_value(&policy(&fields.unnamed[0].ty, false, None), quote!(self.0))
        }
        _ => panic!("{}: a struct of another shape", s.ident),
    }
}

/// What an enum shows: a closed enum the value the spec lists; an untagged one (`oneOf`) its
/// variant's value, each by its [`Policy`].
fn enum_shown(e: &syn::ItemEnum) -> proc_macro2::TokenStream {
    if e.variants.iter().all(|v| v.fields.is_empty()) {
        return quote!(::serde_json::to_value(self).unwrap_or(::serde_json::Value::Null));
    }
    let arms = e.variants.iter().map(|v| {
        let variant = &v.ident;
        match &v.fields {
            syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                let value = shown_value(&policy(&f.unnamed[0].ty, false, None), quote!(*v0));
                quote!(Self::#variant(v0) => #value,)
            }
            syn::Fields::Unit => quote!(Self::#variant => ::serde_json::Value::Null,),
            _ => panic!("{}::{variant}: an enum variant of another shape", e.ident),
        }
    });
    quote!(match self { #(#arms)* })
}

/// `value` as `crate::Shown` renders it under `policy`.
fn shown_value(policy: &Policy, value: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    match policy {
        Policy::Shown => quote!(crate::shown::json::Shown::shown(&#value)),
        Policy::Masked(None) => quote!(crate::shown::json::MaskedJson::masked_json(&#value, None)),
        Policy::Masked(Some(form)) => {
            quote!(crate::shown::json::MaskedJson::masked_json(&#value, Some(&crate::ids::#form)))
        }
    }
}

/// Removes `Debug` from a `#[derive(..)]`; whether it was there.
fn drop_derived_debug(attrs: &mut [syn::Attribute]) -> bool {
    let mut found = false;
    for attr in attrs.iter_mut() {
        if !attr.path().is_ident("derive") {
            continue;
        }
        let paths = attr
            .parse_args_with(
                syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated,
            )
            .expect("a derive list");
        let kept: Vec<&syn::Path> = paths
            .iter()
            .filter(|p| {
                let debug = p.segments.last().is_some_and(|s| s.ident == "Debug");
                found |= debug;
                !debug
            })
            .collect();
        *attr = syn::parse_quote!(#[derive(#(#kept),*)]);
    }
    found
}

/// The innermost type of `Option<..>`, `Vec<..>` and `Box<..>`, and whether a map was crossed.
fn leaf(ty: &syn::Type) -> (&syn::Type, bool) {
    let syn::Type::Path(p) = ty else {
        return (ty, false);
    };
    let Some(last) = p.path.segments.last() else {
        return (ty, false);
    };
    let name = last.ident.to_string();
    if ["HashMap", "BTreeMap", "Map"].contains(&name.as_str()) {
        return (ty, true);
    }
    if ["Option", "Vec", "Box"].contains(&name.as_str())
        && let syn::PathArguments::AngleBracketed(args) = &last.arguments
        && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
    {
        return leaf(inner);
    }
    (ty, false)
}

/// The last segment's name of a path type.
fn type_name(ty: &syn::Type) -> String {
    match ty {
        syn::Type::Path(p) => p
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default(),
        _ => String::new(),
    }
}

/// How a field of type `ty` shows: `id`, the id schema the spec declares it holds.
fn policy(ty: &syn::Type, patient: bool, id: Option<&String>) -> Policy {
    let (leaf, map) = leaf(ty);
    if map {
        return Policy::Masked(None);
    }
    let leaf = type_name(leaf);
    match (leaf.as_str(), id) {
        ("String", Some(schema)) if !patient => Policy::Masked(Some(id_static(schema))),
        ("String" | "Value", _) => Policy::Masked(None),
        _ if patient => Policy::Masked(None),
        _ => Policy::Shown,
    }
}

/// Every struct of a builders' module prints its name only (a builder holds the values being
/// set, and the refusals that name them). Returns how many.
fn builders_print_their_name(items: &mut Vec<syn::Item>) -> usize {
    let mut impls: Vec<syn::Item> = Vec::new();
    for item in items.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        if !drop_derived_debug(&mut s.attrs) {
            continue;
        }
        let ident = &s.ident;
        let name = ident.to_string();
        let (impl_generics, ty_generics, where_clause) = s.generics.split_for_impl();
        impls.push(syn::parse_quote! {
            impl #impl_generics ::std::fmt::Debug for #ident #ty_generics #where_clause {
                fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                    f.debug_struct(#name).finish_non_exhaustive()
                }
            }
        });
    }
    assert!(!impls.is_empty(), "a builders' module has builders");
    let n = impls.len();
    items.extend(impls);
    n
}

/// The name a field has in JSON: its `#[serde(rename = "..")]`, else its own (`r#type` -> `type`).
fn json_name(f: &syn::Field) -> String {
    for attr in &f.attrs {
        if !attr.path().is_ident("serde") {
            continue;
        }
        let mut renamed = None;
        let _ = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                renamed = Some(meta.value()?.parse::<syn::LitStr>()?.value());
            } else if meta.input.peek(syn::Token![=]) {
                meta.value()?.parse::<syn::Expr>()?;
            }
            Ok(())
        });
        if let Some(name) = renamed {
            return name;
        }
    }
    let name = f.ident.as_ref().expect("a named field").to_string();
    name.trim_start_matches("r#").to_owned()
}
