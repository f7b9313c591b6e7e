//! Datasets' and grants' SQL.

use crate::rows::{self, DbError};
use chrono::{DateTime, Utc};
use da_domain::store::{DatasetChange, DatasetRecord};
use da_types::{Column, DatasetFormat, Role};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;
use uuid::Uuid;

const COLUMNS: &str = "name, description, format, size_bytes, row_count, columns, sha256, \
                       min_role, created_at, updated_at";

fn bad(column: &'static str, what: String) -> DbError {
    DbError::Bad(rows::BadValue::new(column, what))
}

fn from_row(row: &Row) -> Result<DatasetRecord, DbError> {
    let format: String = row.try_get(2)?;
    let columns: serde_json::Value = row.try_get(5)?;
    Ok(DatasetRecord {
        name: row.try_get(0)?,
        description: row.try_get(1)?,
        format: DatasetFormat::parse(&format)
            .ok_or_else(|| bad("format", format!("{format:?}")))?,
        size_bytes: row.try_get::<_, i64>(3)?.max(0) as u64,
        rows: row.try_get::<_, i64>(4)?.max(0) as u64,
        columns: serde_json::from_value::<Vec<Column>>(columns)
            .map_err(|e| bad("columns", e.to_string()))?,
        sha256: row.try_get(6)?,
        min_role: rows::role_opt("min_role", row.try_get(7)?)?,
        created_at: row.try_get(8)?,
        updated_at: row.try_get(9)?,
        groups: Vec::new(),
    })
}

/// Every dataset with its grants, by name.
pub(crate) async fn all(db: &impl GenericClient) -> Result<Vec<DatasetRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM datasets ORDER BY name COLLATE \"C\""
        ))
        .await?;
    let mut datasets = rows::all(db.query(&statement, &[]).await?, from_row)?;
    let grants = db
        .prepare_cached("SELECT dataset, group_id FROM dataset_grants ORDER BY granted_at")
        .await?;
    for row in db.query(&grants, &[]).await? {
        let (dataset, group): (String, Uuid) = (row.try_get(0)?, row.try_get(1)?);
        if let Some(record) = datasets.iter_mut().find(|d| d.name == dataset) {
            record.groups.push(group);
        }
    }
    Ok(datasets)
}

pub(crate) async fn by_name(
    db: &impl GenericClient,
    name: &str,
) -> Result<Option<DatasetRecord>, DbError> {
    let statement = db
        .prepare_cached(&format!("SELECT {COLUMNS} FROM datasets WHERE name = $1"))
        .await?;
    let Some(row) = db.query_opt(&statement, &[&name]).await? else {
        return Ok(None);
    };
    let mut record = from_row(&row)?;
    let grants = db
        .prepare_cached(
            "SELECT group_id FROM dataset_grants WHERE dataset = $1 ORDER BY granted_at",
        )
        .await?;
    record.groups = db
        .query(&grants, &[&name])
        .await?
        .iter()
        .map(|row| row.try_get(0))
        .collect::<Result<_, _>>()?;
    Ok(Some(record))
}

/// Inserts the dataset, or replaces its file's facts (format, size, rows, columns, sha256)
/// keeping its description (unless one is given), minimum role and grants. `true` when new.
pub(crate) async fn upsert(
    db: &impl GenericClient,
    record: &DatasetRecord,
    description: Option<&str>,
) -> Result<bool, DbError> {
    let columns = serde_json::to_value(&record.columns).unwrap_or_else(|_| serde_json::json!([]));
    // `xmax = 0` tells an inserted row from an updated one.
    let statement = db
        .prepare_cached(&format!(
            "INSERT INTO datasets ({COLUMNS}) VALUES ($1, coalesce($11, $2), $3, $4, $5, $6, $7, \
             $8, $9, $10) \
             ON CONFLICT (name) DO UPDATE SET format = excluded.format, \
             size_bytes = excluded.size_bytes, row_count = excluded.row_count, \
             columns = excluded.columns, sha256 = excluded.sha256, \
             description = coalesce($11, datasets.description), updated_at = excluded.updated_at \
             RETURNING xmax = 0"
        ))
        .await?;
    let row = db
        .query_one(
            &statement,
            &[
                &record.name,
                &record.description,
                &record.format.as_str(),
                &(record.size_bytes as i64),
                &(record.rows as i64),
                &columns,
                &record.sha256,
                &record.min_role.map(Role::as_str),
                &record.created_at,
                &record.updated_at,
                &description,
            ],
        )
        .await?;
    Ok(row.try_get(0)?)
}

/// Applies the columns `change` names; `false` when there is no such dataset.
pub(crate) async fn apply(
    db: &impl GenericClient,
    name: &str,
    change: &DatasetChange,
    at: DateTime<Utc>,
) -> Result<bool, DbError> {
    // `$4` says whether to write the minimum role at all, `$3` is its new value (maybe NULL).
    let statement = db
        .prepare_cached(
            "UPDATE datasets SET updated_at = $2, description = coalesce($5, description), \
             min_role = CASE WHEN $4 THEN $3 ELSE min_role END WHERE name = $1",
        )
        .await?;
    let min_role = change.min_role.flatten().map(Role::as_str);
    let touched = db
        .execute(
            &statement,
            &[
                &name,
                &at,
                &min_role,
                &change.min_role.is_some(),
                &change.description,
            ],
        )
        .await?;
    Ok(touched > 0)
}

/// Deletes the dataset and its grants; `false` when there was none.
pub(crate) async fn delete(db: &impl GenericClient, name: &str) -> Result<bool, DbError> {
    let grants = db
        .prepare_cached("DELETE FROM dataset_grants WHERE dataset = $1")
        .await?;
    db.execute(&grants, &[&name]).await?;
    let dataset = db
        .prepare_cached("DELETE FROM datasets WHERE name = $1")
        .await?;
    Ok(db.execute(&dataset, &[&name]).await? > 0)
}

pub(crate) async fn granted(
    db: &impl GenericClient,
    name: &str,
    group: Uuid,
) -> Result<bool, DbError> {
    let statement = db
        .prepare_cached("SELECT 1 FROM dataset_grants WHERE dataset = $1 AND group_id = $2")
        .await?;
    Ok(db.query_opt(&statement, &[&name, &group]).await?.is_some())
}

pub(crate) async fn grant(
    db: &impl GenericClient,
    name: &str,
    group: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached(
            "INSERT INTO dataset_grants (dataset, group_id, granted_at) VALUES ($1, $2, $3)",
        )
        .await?;
    db.execute(&statement, &[&name, &group, &at]).await?;
    Ok(())
}

pub(crate) async fn revoke(
    db: &impl GenericClient,
    name: &str,
    group: Uuid,
) -> Result<bool, DbError> {
    let statement = db
        .prepare_cached("DELETE FROM dataset_grants WHERE dataset = $1 AND group_id = $2")
        .await?;
    Ok(db.execute(&statement, &[&name, &group]).await? > 0)
}

/// A deleted group's grants go with it.
pub(crate) async fn delete_grants_of_group(
    db: &impl GenericClient,
    group: Uuid,
) -> Result<(), DbError> {
    let statement = db
        .prepare_cached("DELETE FROM dataset_grants WHERE group_id = $1")
        .await?;
    db.execute(&statement, &[&group]).await?;
    Ok(())
}
