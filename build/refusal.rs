//! Typed refusals: every builder (progenitor's operation builders and typify's body builders)
//! keeps a refused or missing value as a `crate::validate::Refusal` (field and rule), made from
//! structure: the field is the builder field being set or started, the rule comes from the
//! conversion's error through `crate::validate::Rule` (which no error that may quote a value
//! implements). No builder writes, and nothing reads, an error as text.
//!
//! - `Result<T, String>` builder fields become `Result<T, crate::validate::Refusal>`;
//! - `Self { field: Err(..), .. }` (a required field not set yet) becomes
//!   `Err(Refusal::missing("field"))`;
//! - `self.field = <conversion>.map_err(<closure>)` in a setter becomes
//!   `.map_err(|e| Refusal::of("field", &e))`, and the setter requires `Error: Rule` of its value
//!   (in place of `Display`);
//! - `into_request` passes a refusal on as it is (`.map_err(Error::InvalidRequest)` goes), a
//!   body builder's `ConversionError` as its refusal, and a request `reqwest` cannot build as
//!   `Refusal::unbuildable()`;
//! - `types::error::ConversionError` holds a `Refusal`.

use syn::visit_mut::VisitMut;

use super::model::module;

/// Rewrites every builder (see the module docs). Panics when a pass finds nothing to rewrite.
pub(super) fn typed_refusals(file: &mut syn::File) {
    let mut counts = Counts::default();
    {
        let types = module(&mut file.items, "types");
        conversion_error(module(types, "error"));
        rewrite(module(types, "builder"), &mut counts);
    }
    rewrite(module(&mut file.items, "builder"), &mut counts);
    assert!(counts.fields > 0, "no builder field to type");
    assert!(counts.missing > 0, "no required builder field to start");
    assert!(counts.setters > 0, "no setter to type");
    assert!(counts.passed > 0, "no into_request to type");
}

#[derive(Default)]
struct Counts {
    fields: usize,
    missing: usize,
    setters: usize,
    passed: usize,
}

fn rewrite(items: &mut [syn::Item], counts: &mut Counts) {
    for item in items.iter_mut() {
        match item {
            syn::Item::Struct(s) => {
                for f in s.fields.iter_mut() {
                    counts.fields += usize::from(refusal_result(&mut f.ty));
                }
            }
            syn::Item::Impl(imp) => {
                for f in imp.items.iter_mut() {
                    let syn::ImplItem::Fn(f) = f else { continue };
                    let mut visit = Visit {
                        counts: &mut *counts,
                        setter: 0,
                    };
                    visit.visit_block_mut(&mut f.block);
                    if visit.setter > 0 {
                        rule_bound(&mut f.sig);
                    }
                    if f.sig.ident == "into_request" {
                        typed_into_request(f);
                        counts.passed += 1;
                    }
                }
            }
            _ => {}
        }
    }
}

/// `Result<T, String>` -> `Result<T, crate::validate::Refusal>`; whether it was one.
fn refusal_result(ty: &mut syn::Type) -> bool {
    let syn::Type::Path(p) = ty else { return false };
    let Some(last) = p.path.segments.last_mut() else {
        return false;
    };
    if last.ident != "Result" {
        return false;
    }
    let syn::PathArguments::AngleBracketed(args) = &mut last.arguments else {
        return false;
    };
    let Some(syn::GenericArgument::Type(err)) = args.args.iter_mut().nth(1) else {
        return false;
    };
    let is_string = matches!(err, syn::Type::Path(e) if e.path.segments.last().is_some_and(|s| s.ident == "String"));
    if is_string {
        *err = syn::parse_quote!(crate::validate::Refusal);
    }
    is_string
}

struct Visit<'a> {
    counts: &'a mut Counts,
    setter: usize,
}

impl VisitMut for Visit<'_> {
    fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
        match e {
            // `Self { field: Err(..) }`: a required field, not set yet.
            syn::Expr::Struct(s) => {
                for fv in s.fields.iter_mut() {
                    let syn::Member::Named(field) = &fv.member else {
                        continue;
                    };
                    if let syn::Expr::Call(c) = &fv.expr
                        && matches!(&*c.func, syn::Expr::Path(p) if p.path.is_ident("Err"))
                    {
                        let name = field.to_string();
                        let name = name.trim_start_matches("r#");
                        fv.expr = syn::parse_quote!(Err(crate::validate::Refusal::missing(#name)));
                        self.counts.missing += 1;
                    }
                }
            }
            // `self.field = <conversion>.map_err(..)`: a setter.
            syn::Expr::Assign(a) => {
                if let syn::Expr::Field(target) = &*a.left
                    && matches!(&*target.base, syn::Expr::Path(p) if p.path.is_ident("self"))
                    && let syn::Member::Named(field) = &target.member
                    && let syn::Expr::MethodCall(m) = &mut *a.right
                    && m.method == "map_err"
                {
                    let name = field.to_string();
                    let name = name.trim_start_matches("r#");
                    m.args[0] = syn::parse_quote!(|e| crate::validate::Refusal::of(#name, &e));
                    self.setter += 1;
                    self.counts.setters += 1;
                    return;
                }
            }
            _ => {}
        }
        syn::visit_mut::visit_expr_mut(self, e);
    }
}

/// A setter's value must have a conversion whose error is a `crate::validate::Rule`: the `Display`
/// bound on it is replaced, or (progenitor's setters, which had none) added.
fn rule_bound(sig: &mut syn::Signature) {
    let param = sig
        .generics
        .type_params()
        .next()
        .expect("a setter generic over its value")
        .ident
        .clone();
    let wc = sig.generics.make_where_clause();
    let mut replaced = false;
    for pred in wc.predicates.iter_mut() {
        let syn::WherePredicate::Type(p) = pred else {
            continue;
        };
        let is_error = matches!(&p.bounded_ty, syn::Type::Path(t) if t.path.segments.last().is_some_and(|s| s.ident == "Error"))
            || matches!(&p.bounded_ty, syn::Type::Path(t) if t.qself.is_some());
        if is_error {
            p.bounds = syn::parse_quote!(crate::validate::Rule);
            replaced = true;
        }
    }
    if !replaced {
        wc.predicates
            .push(syn::parse_quote!(#param::Error: crate::validate::Rule));
    }
}

/// `into_request` returns a `Refusal`: see the module docs.
fn typed_into_request(f: &mut syn::ImplItemFn) {
    struct Pass(usize);
    impl VisitMut for Pass {
        fn visit_expr_mut(&mut self, e: &mut syn::Expr) {
            syn::visit_mut::visit_expr_mut(self, e);
            let syn::Expr::MethodCall(m) = e else { return };
            if m.method == "map_err" && m.args.len() == 1 {
                match &m.args[0] {
                    // `.map_err(Error::InvalidRequest)`: the refusal as it is.
                    syn::Expr::Path(p)
                        if p.path
                            .segments
                            .last()
                            .is_some_and(|s| s.ident == "InvalidRequest") =>
                    {
                        *e = (*m.receiver).clone();
                        self.0 += 1;
                    }
                    // `.map_err(|e| e.to_string())` of a body builder's `ConversionError`.
                    syn::Expr::Closure(_) => {
                        m.args[0] = syn::parse_quote!(
                            crate::api::types::error::ConversionError::into_refusal
                        );
                        self.0 += 1;
                    }
                    _ => {}
                }
            } else if m.method == "build" && m.args.is_empty() {
                *e = syn::parse_quote!(
                    #m.map_err(|_| crate::validate::Refusal::unbuildable())
                );
                self.0 += 1;
            }
        }
    }
    let mut pass = Pass(0);
    pass.visit_block_mut(&mut f.block);
    assert!(pass.0 > 0, "into_request: nothing to type");
    f.sig.output = match &f.sig.output {
        syn::ReturnType::Type(_, ty) => {
            let mut ty = (**ty).clone();
            if let syn::Type::Path(p) = &mut ty
                && let Some(last) = p.path.segments.last_mut()
                && let syn::PathArguments::AngleBracketed(args) = &mut last.arguments
                && let Some(syn::GenericArgument::Type(err)) = args.args.iter_mut().nth(1)
            {
                *err = syn::parse_quote!(crate::validate::Refusal);
            }
            syn::parse_quote!(-> #ty)
        }
        syn::ReturnType::Default => panic!("into_request returns a Result"),
    };
}

/// `types::error::ConversionError` holds a `Refusal` (typify's `FromStr`s make one of their own
/// static rule, for the field `value`).
fn conversion_error(items: &mut Vec<syn::Item>) {
    let before = items.len();
    items.retain(|item| match item {
        syn::Item::Struct(s) => s.ident != "ConversionError",
        syn::Item::Impl(i) => {
            !matches!(&*i.self_ty, syn::Type::Path(p) if p.path.is_ident("ConversionError"))
        }
        _ => true,
    });
    assert!(
        before - items.len() >= 5,
        "typify's ConversionError and its impls"
    );
    let ours: syn::File = syn::parse_quote! {
        /// A value refused while building a type: the field and the rule (a
        /// [`Refusal`](crate::Refusal)), never the value.
        #[derive(Debug)]
        pub struct ConversionError(crate::validate::Refusal);

        impl ConversionError {
            /// The field and the rule.
            pub fn refusal(&self) -> &crate::validate::Refusal {
                &self.0
            }
            /// The field and the rule, by value.
            pub fn into_refusal(self) -> crate::validate::Refusal {
                self.0
            }
        }

        impl ::std::error::Error for ConversionError {}

        impl ::std::fmt::Display for ConversionError {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl From<&'static str> for ConversionError {
            fn from(rule: &'static str) -> Self {
                Self(crate::validate::Refusal::of("value", &rule))
            }
        }

        impl From<crate::validate::Refusal> for ConversionError {
            fn from(refusal: crate::validate::Refusal) -> Self {
                Self(refusal)
            }
        }
    };
    items.extend(ours.items);
}
