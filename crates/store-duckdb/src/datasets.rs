//! Datasets' and grants' SQL.

use crate::rows::{parse_uuid, ts, utc};
use chrono::{DateTime, Utc};
use da_domain::store::{DatasetChange, DatasetRecord};
use da_types::{Column, DatasetFormat, Role};
use duckdb::{Connection, OptionalExt, Row, params};
use uuid::Uuid;

const COLUMNS: &str = "name, description, format, size_bytes, row_count, columns, sha256, \
                       min_role, created_at, updated_at";

fn bad_text(column: usize, what: String) -> duckdb::Error {
    duckdb::Error::FromSqlConversionFailure(column, duckdb::types::Type::Text, what.into())
}

fn from_row(row: &Row<'_>) -> Result<DatasetRecord, duckdb::Error> {
    let format: String = row.get(2)?;
    let columns: String = row.get(5)?;
    let min_role: Option<String> = row.get(7)?;
    Ok(DatasetRecord {
        name: row.get(0)?,
        description: row.get(1)?,
        format: DatasetFormat::parse(&format)
            .ok_or_else(|| bad_text(2, format!("format {format:?}")))?,
        size_bytes: row.get::<_, i64>(3)?.max(0) as u64,
        rows: row.get::<_, i64>(4)?.max(0) as u64,
        columns: serde_json::from_str::<Vec<Column>>(&columns)
            .map_err(|e| bad_text(5, format!("columns: {e}")))?,
        sha256: row.get(6)?,
        min_role: min_role
            .map(|r| r.parse::<Role>().map_err(|e| bad_text(7, format!("{e}"))))
            .transpose()?,
        created_at: utc(row.get(8)?),
        updated_at: utc(row.get(9)?),
        groups: Vec::new(),
    })
}

/// Every dataset with its grants, by name.
pub(crate) fn all(conn: &Connection) -> Result<Vec<DatasetRecord>, duckdb::Error> {
    let mut datasets: Vec<DatasetRecord> = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM datasets ORDER BY name"))?
        .query_map([], from_row)?
        .collect::<Result<_, _>>()?;
    let grants: Vec<(String, Uuid)> = conn
        .prepare_cached("SELECT dataset, group_id FROM dataset_grants ORDER BY granted_at")?
        .query_map([], |row| {
            Ok((
                row.get::<_, String>(0)?,
                parse_uuid(&row.get::<_, String>(1)?)?,
            ))
        })?
        .collect::<Result<_, _>>()?;
    for (dataset, group) in grants {
        if let Some(record) = datasets.iter_mut().find(|d| d.name == dataset) {
            record.groups.push(group);
        }
    }
    Ok(datasets)
}

pub(crate) fn by_name(
    conn: &Connection,
    name: &str,
) -> Result<Option<DatasetRecord>, duckdb::Error> {
    let Some(mut record) = conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM datasets WHERE name = ?"))?
        .query_row([name], from_row)
        .optional()?
    else {
        return Ok(None);
    };
    record.groups = conn
        .prepare_cached(
            "SELECT group_id FROM dataset_grants WHERE dataset = ? ORDER BY granted_at",
        )?
        .query_map([name], |row| parse_uuid(&row.get::<_, String>(0)?))?
        .collect::<Result<_, _>>()?;
    Ok(Some(record))
}

/// Inserts the dataset, or replaces its file's facts (format, size, rows, columns, sha256)
/// keeping its description (unless one is given), minimum role and grants. `true` when new.
pub(crate) fn upsert(
    conn: &Connection,
    record: &DatasetRecord,
    description: Option<&str>,
) -> Result<bool, duckdb::Error> {
    let columns = serde_json::to_string(&record.columns).unwrap_or_else(|_| "[]".into());
    let replaced = conn.execute(
        "UPDATE datasets SET format = ?, size_bytes = ?, row_count = ?, columns = ?, sha256 = ?, \
         description = coalesce(?, description), updated_at = ? WHERE name = ?",
        params![
            record.format.as_str(),
            record.size_bytes as i64,
            record.rows as i64,
            columns,
            record.sha256,
            description,
            ts(record.updated_at),
            record.name,
        ],
    )?;
    if replaced > 0 {
        return Ok(false);
    }
    conn.execute(
        &format!("INSERT INTO datasets ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"),
        params![
            record.name,
            description.unwrap_or(&record.description),
            record.format.as_str(),
            record.size_bytes as i64,
            record.rows as i64,
            columns,
            record.sha256,
            record.min_role.map(Role::as_str),
            ts(record.created_at),
            ts(record.updated_at),
        ],
    )?;
    Ok(true)
}

/// Applies the columns `change` names; `false` when there is no such dataset.
pub(crate) fn apply(
    conn: &Connection,
    name: &str,
    change: &DatasetChange,
    at: DateTime<Utc>,
) -> Result<bool, duckdb::Error> {
    if let Some(description) = &change.description {
        conn.execute(
            "UPDATE datasets SET description = ? WHERE name = ?",
            params![description, name],
        )?;
    }
    if let Some(min_role) = change.min_role {
        conn.execute(
            "UPDATE datasets SET min_role = ? WHERE name = ?",
            params![min_role.map(Role::as_str), name],
        )?;
    }
    let touched = conn.execute(
        "UPDATE datasets SET updated_at = ? WHERE name = ?",
        params![ts(at), name],
    )?;
    Ok(touched > 0)
}

/// Deletes the dataset and its grants; `false` when there was none.
pub(crate) fn delete(conn: &Connection, name: &str) -> Result<bool, duckdb::Error> {
    conn.execute("DELETE FROM dataset_grants WHERE dataset = ?", [name])?;
    Ok(conn.execute("DELETE FROM datasets WHERE name = ?", [name])? > 0)
}

pub(crate) fn granted(conn: &Connection, name: &str, group: Uuid) -> Result<bool, duckdb::Error> {
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM dataset_grants WHERE dataset = ? AND group_id = ?",
        params![name, group.to_string()],
        |row| row.get(0),
    )?;
    Ok(count > 0)
}

pub(crate) fn grant(
    conn: &Connection,
    name: &str,
    group: Uuid,
    at: DateTime<Utc>,
) -> Result<(), duckdb::Error> {
    conn.execute(
        "INSERT INTO dataset_grants (dataset, group_id, granted_at) VALUES (?, ?, ?)",
        params![name, group.to_string(), ts(at)],
    )?;
    Ok(())
}

pub(crate) fn revoke(conn: &Connection, name: &str, group: Uuid) -> Result<bool, duckdb::Error> {
    Ok(conn.execute(
        "DELETE FROM dataset_grants WHERE dataset = ? AND group_id = ?",
        params![name, group.to_string()],
    )? > 0)
}

/// A deleted group's grants go with it.
pub(crate) fn delete_grants_of_group(conn: &Connection, group: Uuid) -> Result<(), duckdb::Error> {
    conn.execute(
        "DELETE FROM dataset_grants WHERE group_id = ?",
        [group.to_string()],
    )?;
    Ok(())
}
