//! Facts of the spec the handwritten layer, the mock, the CLI and the tests read instead of
//! copying them: the operation table, the words, the paged lists, and the forward-compatible enums.

use std::collections::BTreeMap;

use quote::{format_ident, quote};

use super::seam::Send;
use super::{model::Model, operations::Paged};

/// `pub mod spec`: facts of `openapi.yaml` the handwritten layer reads instead of copying them.
pub(super) fn spec_module(model: &Model, sends: &BTreeMap<String, Send>) -> syn::Item {
    let (keys, words) = model.words();
    let keys = keys.iter();
    let words = words.iter();
    let mut rows = Vec::new();
    for f in &model.operations {
        let response = &sends
            .get(&f.id)
            .unwrap_or_else(|| panic!("no builder send() for operation {}", f.id))
            .response;
        let response_text = quote!(#response).to_string().replace(' ', "");
        let (id, method, path, paged) = (&f.id, &f.method, &f.path, f.paged.is_some());
        let (success, statuses) = (&f.success, &f.statuses);
        rows.push(quote! {
            Operation {
                id: #id,
                method: #method,
                path: #path,
                paged: #paged,
                response: #response_text,
                success: &[#(#success),*],
                statuses: &[#(#statuses),*],
            }
        });
    }
    let enum_fields = model.enum_fields();
    let messages = model.hero_messages();
    let messages = messages.iter();
    syn::parse_quote! {
        /// Facts of `openapi.yaml`, derived by `build.rs` so that no handwritten code copies them.
        /// For the crates of this workspace (the mock's routes, the CLI); not a stable API.
        #[doc(hidden)]
        pub mod spec {
            /// Every property name, enum value and `x-herohealth-words` word the API description
            /// declares, sorted: the only words a redacted body excerpt, JSON path or validation
            /// issue keeps (everything else is masked).
            pub const STRUCTURAL_WORDS: &[&str] = &[#(#keys),*];
            /// Every word (lower case) of Hero's declared messages, sorted: the only words of
            /// Hero's own text an error may show.
            pub const RESPONSE_WORDS: &[&str] = &[#(#words),*];
            /// Every message Hero's error bodies are declared to carry (`x-herohealth-messages`),
            /// sorted; `{}` is a slot whose text is masked. Hero's message is shown only when it
            /// is one of these, whole.
            pub const HERO_MESSAGES: &[&str] = &[#(#messages),*];
            /// Every property whose values are one of the forward-compatible enums' (`status`,
            /// `message_type`, ...), sorted.
            pub const ENUM_FIELDS: &[&str] = &[#(#enum_fields),*];

            /// One operation of the API description: what a route table, a journal or a test needs
            /// to know about it without copying the spec.
            #[derive(Clone, Copy, Debug, PartialEq, Eq)]
            pub struct Operation {
                /// The snake_case operationId: the name of the client's method for it
                /// (`send_message`).
                pub id: &'static str,
                /// The HTTP method, upper case (`POST`).
                pub method: &'static str,
                /// The path template as the spec writes it (`/v1/messages/{id}`).
                pub path: &'static str,
                /// `true` for a paged list: its builder implements [`crate::Paginate`].
                pub paged: bool,
                /// The Rust type of the success body `send()` decodes (`types::Message`), or `()`.
                pub response: &'static str,
                /// The 2xx statuses the spec lists: the answers `send()` decodes.
                pub success: &'static [u16],
                /// Every status the spec lists for the operation, 2xx and errors.
                pub statuses: &'static [u16],
            }

            impl Operation {
                /// Whether the operation changes state on Hero (any method but `GET` and `HEAD`):
                /// a send, whose request is never written twice unless it provably did not arrive.
                pub fn changes_state(&self) -> bool {
                    !matches!(self.method.as_bytes(), b"GET" | b"HEAD")
                }
            }

            /// Every operation of `openapi.yaml` (per path, in the order get, put, post, delete, patch).
            pub const OPERATIONS: &[Operation] = &[#(#rows),*];
        }
    }
}

/// `decode_each_response`: every response body type the client reads, through the decoder
/// `send()` uses (for the fuzz target and the property tests).
pub(super) fn decoders(model: &Model, sends: &BTreeMap<String, Send>) -> syn::Item {
    let mut decoded: Vec<String> = Vec::new();
    for f in &model.operations {
        let response = &sends[&f.id].response;
        let text = quote!(#response).to_string().replace(' ', "");
        if text.starts_with("types::") && !decoded.contains(&text) {
            decoded.push(text);
        }
    }
    for name in model.error_body_schemas() {
        let text = format!("types::{name}");
        if !decoded.contains(&text) {
            decoded.push(text);
        }
    }
    let decoders = decoded.iter().map(|t| {
        let ty: syn::Type = syn::parse_str(t).unwrap();
        let name = t.trim_start_matches("types::");
        quote!(check(#name, crate::transport::decode_json::<#ty>(data).err());)
    });
    syn::parse_quote! {
        /// Decodes `data` as every response body type the client reads (success bodies and
        /// Hero's error bodies), through the decoder `send()` uses, and hands each result to
        /// `check` with the type's name. For the fuzz targets and property tests.
        pub(crate) fn decode_each_response(
            data: &[u8],
            mut check: impl FnMut(&'static str, Option<crate::Error>),
        ) {
            #(#decoders)*
        }
    }
}

/// The `Paginate` impl of every paged list, and the `IntoPage` impl of every response whose page
/// fields the spec names.
pub(super) fn paged_impls(model: &Model, sends: &BTreeMap<String, Send>) -> Vec<syn::Item> {
    use heck::ToUpperCamelCase;
    let mut impls: Vec<syn::Item> = Vec::new();
    for f in &model.operations {
        let Some(paged) = &f.paged else { continue };
        let response = &sends[&f.id].response;
        let builder = format_ident!("{}", f.id.to_upper_camel_case());
        let item = match paged {
            Paged::Fields { item, .. } | Paged::Handwritten { item } => format_ident!("{item}"),
        };
        impls.push(syn::parse_quote! {
            impl<'a> crate::paginate::Paginate<'a> for builder::#builder<'a> {
                type Item = types::#item;
                fn stream_with(
                    self,
                    options: crate::paginate::PageOptions,
                ) -> impl futures::Stream<Item = crate::Result<types::#item>> + Send + Unpin + 'a {
                    crate::paginate::pages(options, move |index, size| {
                        self.clone().page_index(index).page_size(size).send()
                    })
                }
            }
        });
        if let Paged::Fields {
            items,
            count,
            count_required,
            ..
        } = paged
        {
            let (items, count) = (format_ident!("{items}"), format_ident!("{count}"));
            let count = if *count_required {
                quote!(Some(self.#count))
            } else {
                quote!(self.#count)
            };
            impls.push(syn::parse_quote! {
                impl crate::paginate::IntoPage for #response {
                    type Item = types::#item;
                    fn into_page(self) -> crate::paginate::Page<types::#item> {
                        crate::paginate::Page { items: self.#items, count: #count }
                    }
                }
            });
        }
    }
    assert_eq!(
        impls
            .iter()
            .filter(|i| quote!(#i).to_string().contains("Paginate"))
            .count(),
        model
            .operations
            .iter()
            .filter(|o| o.paged.is_some())
            .count(),
        "one Paginate impl per paged list"
    );
    impls
}

/// `crate::enums`' forward-compatible enums (`$OUT_DIR/enums.rs`): one `open_enum!` per schema
/// whose `x-herohealth-rust-type` is `crate::enums::X`, from its `enum:` list and `description`
/// (a nullable `NullableX` schema gives `X` and `type NullableX = Option<X>`), and
/// `OPEN_ENUMS`, the list of them all.
pub(super) fn open_enums(model: &Model) -> String {
    use heck::ToUpperCamelCase;
    let mut items: Vec<proc_macro2::TokenStream> = Vec::new();
    let mut emitted: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in model.open_enums() {
        let name = format_ident!("{}", e.name);
        if e.nullable {
            let alias = format_ident!("{}", e.schema);
            let doc = format!(
                " A [`{}`], or `None` where Hero sends `null` (schema `{}`).",
                e.name, e.schema
            );
            items.push(quote! {
                #[doc = #doc]
                pub type #alias = Option<#name>;
            });
        }
        if let Some(seen) = emitted.get(&e.name) {
            assert_eq!(
                seen, &e.values,
                "{} and {} list different values",
                e.schema, e.name
            );
            continue;
        }
        let doc = e.description.clone().unwrap_or_else(|| {
            panic!(
                "{}: an enum schema needs a `description` (it becomes the type's docs)",
                e.schema
            )
        });
        let docs = doc.lines().map(|l| format!(" {}", l.trim()));
        let variants = e.values.iter().map(|wire| {
            let variant = wire.to_upper_camel_case();
            let ident: syn::Ident = syn::parse_str(&variant)
                .unwrap_or_else(|_| panic!("{}: `{wire}` gives no Rust name", e.schema));
            let doc = format!(" `{wire}` on the wire.");
            quote!(#[doc = #doc] #ident = #wire,)
        });
        items.push(quote! {
            open_enum! {
                #(#[doc = #docs])*
                #name {
                    #(#variants)*
                }
            }
        });
        emitted.insert(e.name.clone(), e.values.clone());
    }
    let names = emitted.keys().map(|n| format_ident!("{n}"));
    let rows = emitted
        .iter()
        .map(|(n, values)| quote!((#n, &[#(#values),*])));
    items.push(quote! {
        crate::validate::into_optional!(#(#names),*);

        /// Every forward-compatible enum of the API, by name, with the wire values it knows (each
        /// type's [`OpenEnum::KNOWN_WIRE`]): for code that must list them all.
        pub const OPEN_ENUMS: &[(&str, &[&str])] = &[#(#rows),*];
    });
    let file: syn::File = syn::parse2(quote!(#(#items)*)).expect("enums.rs is valid Rust");
    format!(
        "// Generated by build.rs from openapi.yaml: one `open_enum!` per enum schema.\n{}",
        prettyplease::unparse(&file)
    )
}

/// `crate::ids`' statics (`$OUT_DIR/ids.rs`): one `IdForm` per schema with `x-herohealth-id`,
/// `ID_FORMS` (them all), and `REQUEST_ID_HEADERS`, the headers `components.headers` declares as a
/// request id.
pub(super) fn id_forms(model: &Model) -> String {
    let mut items: Vec<proc_macro2::TokenStream> = Vec::new();
    let mut names = Vec::new();
    for (schema, pattern) in model.id_forms() {
        let ident = super::debug::id_static(&schema);
        let description = model
            .schemas()
            .find(|(n, _)| **n == schema)
            .and_then(|(_, s)| s.schema_data.description.clone())
            .unwrap_or_else(|| panic!("{schema}: an id schema needs a `description`"));
        let doc = format!(
            " {} Declared form: `{pattern}` (`{schema}`).",
            description.trim()
        );
        items.push(quote! {
            #[doc = #doc]
            pub static #ident: IdForm = IdForm::new(#schema, #pattern);
        });
        names.push(ident);
    }
    let headers = model.request_id_headers();
    items.push(quote! {
        /// Every id form `openapi.yaml` declares.
        pub static ID_FORMS: &[&IdForm] = &[#(&#names),*];
        /// The response headers `openapi.yaml` declares as a request id, in the order they are read.
        pub(crate) const REQUEST_ID_HEADERS: &[&str] = &[#(#headers),*];
    });
    let file: syn::File = syn::parse2(quote!(#(#items)*)).expect("ids.rs is valid Rust");
    format!(
        "// Generated by build.rs from openapi.yaml: one `IdForm` per `x-herohealth-id`.\n{}",
        prettyplease::unparse(&file)
    )
}
