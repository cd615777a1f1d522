//! [`Param`]: a value handed to the driver, whose `Debug` (what the driver logs) shows its kind
//! only.

use std::{error::Error as StdError, fmt};

use bytes::BytesMut;
use tokio_postgres::types::{IsNull, ToSql, Type};

/// A value handed to the driver. Its `Debug` shows the kind only: the driver logs a
/// statement's parameters with it (`tokio_postgres` at DEBUG), and they are rows' values.
#[derive(Clone)]
pub(crate) enum Param {
    Text(String),
    Int8(i64),
    Int4(i32),
    Float8(f64),
    Bool(bool),
    TextArray(Vec<String>),
    Int8Array(Vec<i64>),
}

impl fmt::Debug for Param {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self {
            Param::Text(_) => "text",
            Param::Int8(_) => "int8",
            Param::Int4(_) => "int4",
            Param::Float8(_) => "float8",
            Param::Bool(_) => "bool",
            Param::TextArray(_) => "text[]",
            Param::Int8Array(_) => "int8[]",
        };
        write!(f, "<{kind}, masked>")
    }
}

/// `params` with their types, as the driver takes them (statements are sent with their types:
/// one round trip, no preparing).
pub(crate) fn typed(params: &[Param]) -> Vec<(&(dyn ToSql + Sync), Type)> {
    params
        .iter()
        .map(|p| (p as &(dyn ToSql + Sync), p.ty()))
        .collect()
}

impl Param {
    /// The type the statement declares for it.
    fn ty(&self) -> Type {
        match self {
            Param::Text(_) => Type::TEXT,
            Param::Int8(_) => Type::INT8,
            Param::Int4(_) => Type::INT4,
            Param::Float8(_) => Type::FLOAT8,
            Param::Bool(_) => Type::BOOL,
            Param::TextArray(_) => Type::TEXT_ARRAY,
            Param::Int8Array(_) => Type::INT8_ARRAY,
        }
    }
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Param::Text(v) => v.to_sql(ty, out),
            Param::Int8(v) => v.to_sql(ty, out),
            Param::Int4(v) => v.to_sql(ty, out),
            Param::Float8(v) => v.to_sql(ty, out),
            Param::Bool(v) => v.to_sql(ty, out),
            Param::TextArray(v) => v.to_sql(ty, out),
            Param::Int8Array(v) => v.to_sql(ty, out),
        }
    }

    fn accepts(_: &Type) -> bool {
        // Checked per value, by the value's own type, in `to_sql_checked`.
        true
    }

    fn to_sql_checked(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match self {
            Param::Text(v) => v.to_sql_checked(ty, out),
            Param::Int8(v) => v.to_sql_checked(ty, out),
            Param::Int4(v) => v.to_sql_checked(ty, out),
            Param::Float8(v) => v.to_sql_checked(ty, out),
            Param::Bool(v) => v.to_sql_checked(ty, out),
            Param::TextArray(v) => v.to_sql_checked(ty, out),
            Param::Int8Array(v) => v.to_sql_checked(ty, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_param_shows_its_kind_only() {
        let shown = format!(
            "{:?}",
            [
                Param::Text("Zebedee Quenby 9434765919".into()),
                Param::Int8(9_434_765_919),
                Param::TextArray(vec!["+447700900123".into()]),
                Param::Int8Array(vec![9_434_765_919]),
                Param::Float8(1.5),
                Param::Int4(7),
                Param::Bool(true),
            ]
        );
        assert_eq!(
            shown,
            "[<text, masked>, <int8, masked>, <text[], masked>, <int8[], masked>, <float8, masked>, <int4, masked>, <bool, masked>]"
        );
    }
}
