//! `Debug` by structure for every generated type: what a struct or enum prints is decided by each
//! field's type and the spec, never by what the value looks like.
//!
//! - Text is masked (`<redacted>`) unless the spec declares the field an id (the property refers
//!   to a schema with `x-herohealth-id`), and an id is shown only in its kind's declared form
//!   (`…` otherwise): a name, a URL, a message, a token or an unknown value never prints.
//! - A property the spec marks `x-herohealth-patient-data` (a date of birth) is masked whatever
//!   its type; other timestamps, numbers, booleans and the crate's own types print as they are
//!   (the checked values, `Sensitive` and the open enums mask themselves).
//! - JSON values and maps of text are masked whole.
//! - Builders (the operation builders and the body types' builders) print their name only.
//!
//! The derived `Debug` is removed from each of these types and an impl written in its place;
//! the counts are checked, so a type progenitor emits in another shape fails the build.

use std::collections::{BTreeMap, BTreeSet};

use quote::quote;

use super::model::module;

/// How one field prints.
enum Policy {
    /// Its own `Debug`.
    Shown,
    /// `<redacted>`, keeping only the shape (`None`, `Some(..)`, a list's length).
    Masked,
    /// The id when it has the declared form of its kind (the `crate::ids` static named), else `…`.
    Id(syn::Ident),
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

/// Replaces the derived `Debug` of every generated type (see the module docs). `patient_data`
/// are the property names the spec marks as patient data. Returns how many impls were written.
pub(super) fn masked_debug(
    file: &mut syn::File,
    patient_data: &BTreeSet<String>,
    id_fields: &IdFields,
) -> usize {
    let mut written = 0;
    {
        let types = module(&mut file.items, "types");
        let mut impls: Vec<syn::Item> = Vec::new();
        for item in types.iter_mut() {
            match item {
                syn::Item::Struct(s) => {
                    if !drop_derived_debug(&mut s.attrs) {
                        continue;
                    }
                    impls.push(struct_debug(s, patient_data, id_fields));
                }
                syn::Item::Enum(e) => {
                    // A closed enum of unit variants prints a value the spec lists.
                    if e.variants.iter().all(|v| v.fields.is_empty()) {
                        continue;
                    }
                    if !drop_derived_debug(&mut e.attrs) {
                        continue;
                    }
                    impls.push(enum_debug(e));
                }
                _ => {}
            }
        }
        assert!(
            impls.len() > 40,
            "the generated types' Debug impls ({} found)",
            impls.len()
        );
        written += impls.len();
        types.extend(impls);
        let body_builders = module(types, "builder");
        written += builders_print_their_name(body_builders);
    }
    let builders = module(&mut file.items, "builder");
    written += builders_print_their_name(builders);
    written
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

/// How a field of type `ty` prints: `id`, the id schema the spec declares it holds.
fn policy(ty: &syn::Type, patient: bool, id: Option<&String>) -> Policy {
    let (leaf, map) = leaf(ty);
    if map {
        return Policy::Masked;
    }
    let leaf = type_name(leaf);
    match (leaf.as_str(), id) {
        ("String", Some(schema)) if !patient => Policy::Id(id_static(schema)),
        ("String" | "Value", _) => Policy::Masked,
        _ if patient => Policy::Masked,
        _ => Policy::Shown,
    }
}

fn wrap(policy: &Policy, value: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    match policy {
        Policy::Shown => quote!(&#value),
        Policy::Masked => quote!(&crate::shown::debug::Masked(&#value)),
        Policy::Id(form) => quote!(&crate::shown::debug::Id(&#value, &crate::ids::#form)),
    }
}

fn struct_debug(
    s: &syn::ItemStruct,
    patient_data: &BTreeSet<String>,
    id_fields: &IdFields,
) -> syn::Item {
    let ident = &s.ident;
    let name = ident.to_string();
    let (impl_generics, ty_generics, where_clause) = s.generics.split_for_impl();
    let body = match &s.fields {
        syn::Fields::Named(fields) => {
            let entries = fields.named.iter().map(|f| {
                let field = f.ident.as_ref().expect("a named field");
                let label = field.to_string();
                let id = id_fields.get(&(schema_of(&name), label.clone()));
                let p = policy(&f.ty, patient_data.contains(&label), id);
                let value = wrap(&p, quote!(self.#field));
                quote!(.field(#label, #value))
            });
            quote!(f.debug_struct(#name) #(#entries)* .finish())
        }
        syn::Fields::Unnamed(fields) => {
            let entries = fields.unnamed.iter().enumerate().map(|(i, f)| {
                let index = syn::Index::from(i);
                let p = policy(&f.ty, false, None);
                let value = wrap(&p, quote!(self.#index));
                quote!(.field(#value))
            });
            quote!(f.debug_tuple(#name) #(#entries)* .finish())
        }
        syn::Fields::Unit => quote!(f.write_str(#name)),
    };
    syn::parse_quote! {
        impl #impl_generics ::std::fmt::Debug for #ident #ty_generics #where_clause {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                #body
            }
        }
    }
}

fn enum_debug(e: &syn::ItemEnum) -> syn::Item {
    let ident = &e.ident;
    let arms = e.variants.iter().map(|v| {
        let variant = &v.ident;
        let label = variant.to_string();
        match &v.fields {
            syn::Fields::Unit => quote!(Self::#variant => f.write_str(#label),),
            syn::Fields::Unnamed(fields) => {
                let bindings: Vec<syn::Ident> = (0..fields.unnamed.len())
                    .map(|i| quote::format_ident!("v{i}"))
                    .collect();
                let entries = fields.unnamed.iter().zip(&bindings).map(|(f, b)| {
                    let p = policy(&f.ty, false, None);
                    let value = wrap(&p, quote!(*#b));
                    quote!(.field(#value))
                });
                quote!(Self::#variant(#(#bindings),*) => f.debug_tuple(#label) #(#entries)* .finish(),)
            }
            syn::Fields::Named(fields) => {
                let names: Vec<&syn::Ident> =
                    fields.named.iter().map(|f| f.ident.as_ref().unwrap()).collect();
                let entries = fields.named.iter().map(|f| {
                    let field = f.ident.as_ref().unwrap();
                    let p = policy(&f.ty, false, None);
                    let value = wrap(&p, quote!(*#field));
                    let label = field.to_string();
                    quote!(.field(#label, #value))
                });
                quote!(Self::#variant { #(#names),* } => f.debug_struct(#label) #(#entries)* .finish(),)
            }
        }
    });
    syn::parse_quote! {
        impl ::std::fmt::Debug for #ident {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                match self {
                    #(#arms)*
                }
            }
        }
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

/// `value` as `crate::Shown` renders it under `policy`.
fn shown_value(policy: &Policy, value: proc_macro2::TokenStream) -> proc_macro2::TokenStream {
    match policy {
        Policy::Shown => quote!(crate::shown::json::Shown::shown(&#value)),
        Policy::Masked => quote!(crate::shown::json::MaskedJson::masked_json(&#value, None)),
        Policy::Id(form) => {
            quote!(crate::shown::json::MaskedJson::masked_json(&#value, Some(&crate::ids::#form)))
        }
    }
}

/// `impl crate::Shown` for every generated type of `types` (what `hero` prints): the same policy
/// per field as its `Debug`, as JSON with the field names serde gives them. Returns how many.
pub(super) fn shown_json(
    file: &mut syn::File,
    patient_data: &BTreeSet<String>,
    id_fields: &IdFields,
) -> usize {
    let types = module(&mut file.items, "types");
    let mut impls: Vec<syn::Item> = Vec::new();
    for item in types.iter() {
        let (ident, body) = match item {
            syn::Item::Struct(s) => {
                let name = s.ident.to_string();
                let body = match &s.fields {
                    syn::Fields::Named(fields) => {
                        let entries = fields.named.iter().map(|f| {
                            let field = f.ident.as_ref().expect("a named field");
                            let label = field.to_string();
                            let id = id_fields.get(&(schema_of(&name), label.clone()));
                            let p = policy(&f.ty, patient_data.contains(&label), id);
                            let key = json_name(f);
                            let value = shown_value(&p, quote!(self.#field));
                            quote!(m.insert(#key.to_owned(), #value);)
                        });
                        quote! {
                            let mut m = ::serde_json::Map::new();
                            #(#entries)*
                            ::serde_json::Value::Object(m)
                        }
                    }
                    syn::Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                        let p = policy(&fields.unnamed[0].ty, false, None);
                        shown_value(&p, quote!(self.0))
                    }
                    _ => continue,
                };
                (&s.ident, body)
            }
            syn::Item::Enum(e) => {
                let body = if e.variants.iter().all(|v| v.fields.is_empty()) {
                    // A closed enum: a value the spec lists.
                    quote!(::serde_json::to_value(self).unwrap_or(::serde_json::Value::Null))
                } else {
                    let arms = e.variants.iter().map(|v| {
                        let variant = &v.ident;
                        match &v.fields {
                            syn::Fields::Unnamed(f) if f.unnamed.len() == 1 => {
                                let p = policy(&f.unnamed[0].ty, false, None);
                                let value = shown_value(&p, quote!(*v0));
                                quote!(Self::#variant(v0) => #value,)
                            }
                            syn::Fields::Unit => {
                                quote!(Self::#variant => ::serde_json::Value::Null,)
                            }
                            _ => panic!("{}::{variant}: an enum variant of another shape", e.ident),
                        }
                    });
                    quote!(match self { #(#arms)* })
                };
                (&e.ident, body)
            }
            _ => continue,
        };
        impls.push(syn::parse_quote! {
            impl crate::shown::json::Shown for #ident {
                fn shown(&self) -> ::serde_json::Value {
                    #body
                }
            }
        });
    }
    assert!(
        impls.len() > 40,
        "the generated types' Shown impls ({})",
        impls.len()
    );
    let n = impls.len();
    types.extend(impls);
    n
}
