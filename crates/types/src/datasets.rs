//! Wire types of datasets, grants, queries and sync (`API.md` §12).

use crate::Role;
use crate::dto::rfc3339;
use crate::groups::GroupRef;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What a dataset's name must look like: `^[a-z][a-z0-9_]{0,62}$` (it is a table name in
/// queries, and a file name in `da sync`'s directory).
pub fn valid_dataset_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some('a'..='z'))
        && name.len() <= 63
        && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// Sizes people read: `512 B`, `1.5 MiB` (for the web UI and the CLI alike).
pub fn human_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// How a query's cell reads in a grid (the web UI's, `da query`'s table): `NULL`, text as
/// it is, anything else as its JSON.
pub fn cell_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::Null => "NULL".into(),
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// Whether a column of this DuckDB type holds numbers (grids align them right).
pub fn is_numeric_type(data_type: &str) -> bool {
    matches!(
        data_type,
        "TINYINT"
            | "SMALLINT"
            | "INTEGER"
            | "BIGINT"
            | "HUGEINT"
            | "UTINYINT"
            | "USMALLINT"
            | "UINTEGER"
            | "UBIGINT"
            | "UHUGEINT"
            | "FLOAT"
            | "DOUBLE"
    ) || is_decimal_type(data_type)
}

/// Whether a column of this DuckDB type holds DECIMAL values (`DECIMAL(38,2)`; not a list of
/// them, `DECIMAL(10,2)[]`).
pub fn is_decimal_type(data_type: &str) -> bool {
    data_type.starts_with("DECIMAL(") && data_type.ends_with(')')
}

/// The file format of a dataset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetFormat {
    Parquet,
    Csv,
}

impl DatasetFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetFormat::Parquet => "parquet",
            DatasetFormat::Csv => "csv",
        }
    }

    /// The file extension `da sync` writes.
    pub fn extension(self) -> &'static str {
        self.as_str()
    }

    /// The `Content-Type` an upload of this format carries (and a download answers with).
    pub fn content_type(self) -> &'static str {
        match self {
            DatasetFormat::Parquet => "application/vnd.apache.parquet",
            DatasetFormat::Csv => "text/csv",
        }
    }

    /// The format of an upload's `Content-Type` (parameters such as `; charset=utf-8` ignored).
    pub fn from_content_type(value: &str) -> Option<DatasetFormat> {
        let essence = value.split(';').next().unwrap_or("").trim();
        if essence.eq_ignore_ascii_case("application/vnd.apache.parquet") {
            Some(DatasetFormat::Parquet)
        } else if essence.eq_ignore_ascii_case("text/csv") {
            Some(DatasetFormat::Csv)
        } else {
            None
        }
    }

    pub fn parse(value: &str) -> Option<DatasetFormat> {
        match value {
            "parquet" => Some(DatasetFormat::Parquet),
            "csv" => Some(DatasetFormat::Csv),
            _ => None,
        }
    }
}

/// A column: its name and DuckDB's type name (`BIGINT`, `VARCHAR`, `DECIMAL(18,2)`, …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub data_type: String,
}

/// `Dataset` of `API.md` §12. `groups` only in admins' answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dataset {
    pub name: String,
    pub description: String,
    pub format: DatasetFormat,
    pub size_bytes: u64,
    pub rows: u64,
    pub columns: Vec<Column>,
    pub sha256: String,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub min_role: Option<Role>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groups: Option<Vec<GroupRef>>,
}

/// `PATCH /api/datasets/{name}`: `null` clears the minimum role.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpdateDatasetRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(
        default,
        deserialize_with = "crate::tokens::present",
        skip_serializing_if = "Option::is_none"
    )]
    pub min_role: Option<Option<String>>,
}

/// One entry of `GET /api/sync/manifest`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestEntry {
    pub name: String,
    pub format: DatasetFormat,
    pub sha256: String,
    pub size_bytes: u64,
    #[serde(with = "rfc3339")]
    pub updated_at: DateTime<Utc>,
    pub download_path: String,
}

/// `GET /api/sync/manifest`: the datasets the caller can read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncManifest {
    pub datasets: Vec<ManifestEntry>,
}

/// The default and the bounds of `limit` in `POST /api/query`.
pub const QUERY_LIMIT_DEFAULT: u64 = 1000;
pub const QUERY_LIMIT_MAX: u64 = 100_000;

/// `POST /api/query`. `limit` stays raw JSON so that any value gets a sentence.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct QueryRequest {
    pub sql: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<serde_json::Value>,
}

/// `POST /api/query`'s JSON answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryResult {
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<serde_json::Value>>,
    pub row_count: u64,
    pub truncated: bool,
    pub elapsed_ms: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_types_are_told_apart() {
        for t in ["BIGINT", "DOUBLE", "DECIMAL(38,2)", "UHUGEINT"] {
            assert!(is_numeric_type(t), "{t}");
        }
        for t in [
            "VARCHAR",
            "DATE",
            "BIGINT[]",
            "DECIMAL(10,2)[]",
            "DECIMAL(10,2)[3]",
            "STRUCT(a DECIMAL(4,1))",
            "BOOLEAN",
        ] {
            assert!(!is_numeric_type(t), "{t}");
        }
    }

    #[test]
    fn dataset_names_are_table_and_file_names() {
        for good in ["a", "sales", "sales_2024", &format!("a{}", "b".repeat(62))] {
            assert!(valid_dataset_name(good), "{good}");
        }
        for bad in [
            "",
            "2024",
            "_x",
            "Sales",
            "sales-2024",
            "a.b",
            "../etc",
            &format!("a{}", "b".repeat(63)),
            "é",
        ] {
            assert!(!valid_dataset_name(bad), "{bad}");
        }
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(human_size(512), "512 B");
        assert_eq!(human_size(1536), "1.5 KiB");
        assert_eq!(human_size(10 * 1024 * 1024), "10.0 MiB");
    }

    #[test]
    fn content_types_name_the_format() {
        assert_eq!(
            DatasetFormat::from_content_type("text/csv; charset=utf-8"),
            Some(DatasetFormat::Csv)
        );
        assert_eq!(
            DatasetFormat::from_content_type("application/vnd.apache.parquet"),
            Some(DatasetFormat::Parquet)
        );
        assert_eq!(DatasetFormat::from_content_type("application/json"), None);
    }
}
