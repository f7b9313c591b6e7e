//! What a query may touch, decided from DuckDB's own parse of it (`json_serialize_sql`), never
//! from matching strings: exactly one SELECT, whose every table is a dataset the caller may
//! read, with no table function but a few that make rows out of nothing, and none of the
//! scalar functions that would tell the server's settings. The engine's sandbox (only those
//! files reachable, external access off, configuration locked) stands behind this.

use crate::engine::BuiltinMacro;
use da_types::detail;
use serde_json::Value;
use std::collections::BTreeSet;

/// Why a query is refused before it runs; each is a 400 with a §12 sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Not a SELECT, or more than one statement.
    NotASingleSelect,
    /// A file, URL, file-reading or metadata function: `read_csv(…)`, `'x.csv'`, `query(…)`.
    NotADataset,
    /// A table that is not a dataset the caller may read (or does not exist: the same).
    UnknownDataset(String),
    /// DuckDB could not parse it: its own message (it names no file).
    Syntax(String),
}

impl Refusal {
    pub fn detail(&self) -> String {
        match self {
            Refusal::NotASingleSelect => detail::QUERY_SINGLE_SELECT.into(),
            Refusal::NotADataset => detail::QUERY_ONLY_DATASETS.into(),
            Refusal::UnknownDataset(name) => format!("{}{name}", detail::QUERY_UNKNOWN_DATASET),
            Refusal::Syntax(message) => message.clone(),
        }
    }
}

/// Table functions that read nothing but their arguments.
const ROW_MAKERS: &[&str] = &["range", "generate_series", "unnest"];

/// Scalar functions that answer with the server's configuration or environment (paths among
/// it), by name or by prefix.
const TELLING_FUNCTIONS: &[&str] = &["current_setting", "getvariable", "getenv", "sniff_csv"];
const TELLING_PREFIXES: &[&str] = &["duckdb_", "pragma_", "read_", "parquet_", "glob"];

/// Table references that are not datasets whatever they name: `SHOW x`, `DESCRIBE x` and
/// `SUMMARIZE x` (which answer settings — paths among them — when no table has the name), and
/// references only DuckDB itself makes.
const REFUSED_TABLE_REFS: &[&str] = &["SHOW_REF", "COLUMN_DATA", "DELIM_GET", "BOUND_TABLE_REF"];

/// Schemas whose functions describe the database rather than the data (PostgreSQL
/// compatibility: `pg_get_viewdef` answers a view's SQL, a file path in it).
const REFUSED_SCHEMAS: &[&str] = &["pg_catalog", "information_schema"];

/// The built-in macros a query may not call: a parse names the macro, not what its body calls,
/// so a macro over a telling function (or in a catalog schema) is refused by its own name.
pub fn refused_macros(macros: &[BuiltinMacro]) -> BTreeSet<String> {
    macros
        .iter()
        .filter(|m| {
            REFUSED_SCHEMAS.contains(&m.schema.to_ascii_lowercase().as_str())
                || mentions_telling(&m.definition)
        })
        .map(|m| m.name.to_ascii_lowercase())
        .collect()
}

/// Whether SQL text calls a telling function: any identifier in it that is one.
fn mentions_telling(sql: &str) -> bool {
    sql.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .any(|word| !word.is_empty() && telling(word))
}

/// The datasets a parsed query reads (lower-case names), or why it may not run. `readable`
/// holds the names the caller may read; anything else is "unknown", exactly as a name that
/// does not exist. `refused` names functions refused besides the telling ones
/// ([`refused_macros`]).
pub fn datasets_of(
    parsed: &Value,
    readable: &dyn Fn(&str) -> bool,
    refused: &BTreeSet<String>,
) -> Result<BTreeSet<String>, Refusal> {
    if parsed.get("error").and_then(Value::as_bool) == Some(true) {
        let message = parsed
            .get("error_message")
            .and_then(Value::as_str)
            .unwrap_or("The query could not be read");
        // DuckDB serialises SELECTs only: anything else is a statement we refuse anyway.
        return Err(match parsed.get("error_type").and_then(Value::as_str) {
            Some("parser") => Refusal::Syntax(format!("Parser Error: {message}")),
            _ => Refusal::NotASingleSelect,
        });
    }
    let statements = parsed
        .get("statements")
        .and_then(Value::as_array)
        .ok_or(Refusal::NotASingleSelect)?;
    if statements.len() != 1 {
        return Err(Refusal::NotASingleSelect);
    }
    let mut walk = Walk {
        refused,
        tables: Vec::new(),
        ctes: BTreeSet::new(),
        not_a_dataset: false,
    };
    walk.visit(&statements[0]);
    if walk.not_a_dataset {
        return Err(Refusal::NotADataset);
    }
    let mut datasets = BTreeSet::new();
    for table in walk.tables {
        if walk.ctes.contains(&table) {
            continue;
        }
        if !readable(&table) {
            return Err(Refusal::UnknownDataset(table));
        }
        datasets.insert(table);
    }
    Ok(datasets)
}

struct Walk<'a> {
    refused: &'a BTreeSet<String>,
    tables: Vec<String>,
    ctes: BTreeSet<String>,
    not_a_dataset: bool,
}

impl Walk<'_> {
    fn visit(&mut self, node: &Value) {
        match node {
            Value::Array(items) => items.iter().for_each(|item| self.visit(item)),
            Value::Object(map) => {
                match map.get("type").and_then(Value::as_str) {
                    Some("BASE_TABLE") => self.table(map),
                    Some(kind) if REFUSED_TABLE_REFS.contains(&kind) => self.not_a_dataset = true,
                    Some("TABLE_FUNCTION") => {
                        let name = map
                            .get("function")
                            .and_then(|f| f.get("function_name"))
                            .and_then(Value::as_str)
                            .unwrap_or("");
                        if !ROW_MAKERS.contains(&name.to_ascii_lowercase().as_str()) {
                            self.not_a_dataset = true;
                        }
                    }
                    _ => {}
                }
                if map.get("class").and_then(Value::as_str) == Some("FUNCTION")
                    && let Some(name) = map.get("function_name").and_then(Value::as_str)
                {
                    let schema = map.get("schema").and_then(Value::as_str).unwrap_or("");
                    if telling(name)
                        || self.refused.contains(&name.to_ascii_lowercase())
                        || REFUSED_SCHEMAS.contains(&schema.to_ascii_lowercase().as_str())
                    {
                        self.not_a_dataset = true;
                    }
                }
                if let Some(entries) = map
                    .get("cte_map")
                    .and_then(|m| m.get("map"))
                    .and_then(Value::as_array)
                {
                    for entry in entries {
                        if let Some(key) = entry.get("key").and_then(Value::as_str) {
                            self.ctes.insert(key.to_lowercase());
                        }
                    }
                }
                map.values().for_each(|value| self.visit(value));
            }
            _ => {}
        }
    }

    fn table(&mut self, map: &serde_json::Map<String, Value>) {
        let text = |key: &str| map.get(key).and_then(Value::as_str).unwrap_or("");
        let (catalog, schema, name) = (
            text("catalog_name"),
            text("schema_name"),
            text("table_name"),
        );
        // A dataset is a plain name; anything with a path's or a URL's characters in it is a
        // file DuckDB would open by replacement scan.
        let plain = |part: &str| {
            !part.is_empty() && part.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        if !plain(name) {
            self.not_a_dataset = true;
            return;
        }
        let qualified = match (catalog, schema) {
            ("", "") => name.to_lowercase(),
            ("", schema) if schema.eq_ignore_ascii_case("main") => name.to_lowercase(),
            ("", schema) => format!("{schema}.{name}").to_lowercase(),
            (catalog, schema) => format!("{catalog}.{schema}.{name}").to_lowercase(),
        };
        self.tables.push(qualified);
    }
}

fn telling(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    TELLING_FUNCTIONS.contains(&name.as_str())
        || TELLING_PREFIXES
            .iter()
            .any(|prefix| name.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn base_table(name: &str) -> Value {
        json!({"type": "BASE_TABLE", "catalog_name": "", "schema_name": "", "table_name": name})
    }

    fn select_from(from: Value) -> Value {
        json!({"error": false, "statements": [{"node": {"type": "SELECT_NODE",
            "cte_map": {"map": []}, "select_list": [], "from_table": from}}]})
    }

    fn readable(name: &str) -> bool {
        name == "sales" || name == "orders"
    }

    #[test]
    fn readable_tables_pass_and_others_are_unknown() {
        assert_eq!(
            datasets_of(
                &select_from(base_table("Sales")),
                &readable,
                &BTreeSet::new()
            )
            .unwrap(),
            BTreeSet::from(["sales".to_owned()])
        );
        assert_eq!(
            datasets_of(
                &select_from(base_table("secret")),
                &readable,
                &BTreeSet::new()
            ),
            Err(Refusal::UnknownDataset("secret".into()))
        );
        let qualified = json!({"type": "BASE_TABLE", "catalog_name": "",
            "schema_name": "information_schema", "table_name": "tables"});
        assert_eq!(
            datasets_of(&select_from(qualified), &readable, &BTreeSet::new()),
            Err(Refusal::UnknownDataset("information_schema.tables".into()))
        );
    }

    #[test]
    fn files_and_table_functions_are_refused() {
        for from in [
            base_table("/etc/passwd"),
            base_table("x.csv"),
            base_table("https://example.com/x.parquet"),
            json!({"type": "TABLE_FUNCTION", "function": {"function_name": "read_csv"}}),
            json!({"type": "TABLE_FUNCTION", "function": {"function_name": "query"}}),
            json!({"type": "TABLE_FUNCTION", "function": {"function_name": "duckdb_settings"}}),
        ] {
            assert_eq!(
                datasets_of(&select_from(from.clone()), &readable, &BTreeSet::new()),
                Err(Refusal::NotADataset),
                "{from}"
            );
        }
        let range = json!({"type": "TABLE_FUNCTION", "function": {"function_name": "range"}});
        assert!(
            datasets_of(&select_from(range), &readable, &BTreeSet::new())
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn show_describe_and_summarize_are_refused() {
        let show = json!({"type": "SHOW_REF", "table_name": "allowed_paths", "show_type": "SHOW"});
        let inner = select_from(show)["statements"][0]["node"].clone();
        let from = json!({"type": "JOIN", "left": {"type": "SUBQUERY", "subquery": {"node": inner}},
            "right": base_table("sales")});
        assert_eq!(
            datasets_of(&select_from(from), &readable, &BTreeSet::new()),
            Err(Refusal::NotADataset)
        );
    }

    #[test]
    fn macros_over_telling_functions_and_catalog_functions_are_refused() {
        let macro_of = |name: &str, schema: &str, definition: &str| BuiltinMacro {
            name: name.into(),
            schema: schema.into(),
            definition: definition.into(),
        };
        let refused = refused_macros(&[
            macro_of(
                "pg_get_viewdef",
                "pg_catalog",
                "(SELECT sql FROM duckdb_views() v WHERE v.view_oid = oid)",
            ),
            macro_of("secret_path", "main", "current_setting('home_directory')"),
            macro_of("list_reverse", "main", "list_reverse_sort(l)"),
        ]);
        assert_eq!(
            refused,
            BTreeSet::from(["pg_get_viewdef".to_owned(), "secret_path".to_owned()])
        );
        let mut query = select_from(base_table("sales"));
        query["statements"][0]["node"]["select_list"] = json!([{"class": "FUNCTION",
            "function_name": "PG_GET_VIEWDEF", "schema": "", "arguments": []}]);
        assert_eq!(
            datasets_of(&query, &readable, &refused),
            Err(Refusal::NotADataset)
        );
        query["statements"][0]["node"]["select_list"] = json!([{"class": "FUNCTION",
            "function_name": "anything", "schema": "pg_catalog", "arguments": []}]);
        assert_eq!(
            datasets_of(&query, &readable, &BTreeSet::new()),
            Err(Refusal::NotADataset)
        );
        query["statements"][0]["node"]["select_list"] = json!([{"class": "FUNCTION",
            "function_name": "list_reverse", "schema": "", "arguments": []}]);
        assert!(datasets_of(&query, &readable, &refused).is_ok());
    }

    #[test]
    fn functions_that_tell_the_configuration_are_refused() {
        let mut query = select_from(base_table("sales"));
        query["statements"][0]["node"]["select_list"] = json!([{"class": "FUNCTION",
            "function_name": "CURRENT_SETTING", "arguments": []}]);
        assert_eq!(
            datasets_of(&query, &readable, &BTreeSet::new()),
            Err(Refusal::NotADataset)
        );
    }

    #[test]
    fn ctes_are_not_datasets_and_other_statements_are_refused() {
        let mut query = select_from(base_table("recent"));
        query["statements"][0]["node"]["cte_map"] = json!({"map": [{"key": "recent", "value": {"query_node": select_from(base_table("orders"))["statements"][0]["node"]}}]});
        assert_eq!(
            datasets_of(&query, &readable, &BTreeSet::new()).unwrap(),
            BTreeSet::from(["orders".to_owned()])
        );
        let two = json!({"error": false, "statements": [{}, {}]});
        assert_eq!(
            datasets_of(&two, &readable, &BTreeSet::new()),
            Err(Refusal::NotASingleSelect)
        );
        let attach = json!({"error": true, "error_type": "not implemented",
            "error_message": "Only SELECT statements can be serialized to json!"});
        assert_eq!(
            datasets_of(&attach, &readable, &BTreeSet::new()),
            Err(Refusal::NotASingleSelect)
        );
        let typo = json!({"error": true, "error_type": "parser",
            "error_message": "syntax error at or near \"selec\""});
        assert_eq!(
            datasets_of(&typo, &readable, &BTreeSet::new()),
            Err(Refusal::Syntax(
                "Parser Error: syntax error at or near \"selec\"".into()
            ))
        );
    }
}
