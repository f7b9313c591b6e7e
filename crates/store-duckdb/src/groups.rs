//! Groups' and memberships' SQL.

use crate::conditions::Conditions;
use crate::rows::{GROUP_COLUMNS, group_from_row, parse_source, parse_uuid, ts, utc};
use chrono::{DateTime, Utc};
use da_domain::store::{GroupChange, GroupFilter, GroupRecord, MemberRecord};
use da_types::{MembershipSource, Role};
use duckdb::{Connection, OptionalExt, ToSql, params, params_from_iter};
use uuid::Uuid;

fn external_ids_json(ids: &[String]) -> String {
    serde_json::Value::from(ids.to_vec()).to_string()
}

/// Whether a group other than `except` has this name, case-insensitively.
pub(crate) fn name_taken(
    conn: &Connection,
    name: &str,
    except: Option<Uuid>,
) -> Result<bool, duckdb::Error> {
    let count: i64 = conn.query_row(
        "SELECT count(*) FROM groups WHERE name_key = ? AND id <> ?",
        params![
            name.to_lowercase(),
            except.map(|id| id.to_string()).unwrap_or_default()
        ],
        |row| row.get(0),
    )?;
    Ok(count > 0)
}

pub(crate) fn insert(conn: &Connection, group: &GroupRecord) -> Result<(), duckdb::Error> {
    conn.execute(
        &format!("INSERT INTO groups ({GROUP_COLUMNS}, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"),
        params![
            group.id.to_string(),
            group.name,
            group.description,
            group.role.map(Role::as_str),
            external_ids_json(&group.external_ids),
            ts(group.created_at),
            ts(group.updated_at),
            group.name.to_lowercase(),
        ],
    )?;
    Ok(())
}

pub(crate) fn by_id(conn: &Connection, id: Uuid) -> Result<Option<GroupRecord>, duckdb::Error> {
    conn.prepare_cached(&format!("SELECT {GROUP_COLUMNS} FROM groups WHERE id = ?"))?
        .query_row([id.to_string()], group_from_row)
        .optional()
}

pub(crate) fn by_name(conn: &Connection, name: &str) -> Result<Option<GroupRecord>, duckdb::Error> {
    conn.prepare_cached(&format!(
        "SELECT {GROUP_COLUMNS} FROM groups WHERE name_key = ?"
    ))?
    .query_row([name.trim().to_lowercase()], group_from_row)
    .optional()
}

pub(crate) fn all(conn: &Connection) -> Result<Vec<GroupRecord>, duckdb::Error> {
    conn.prepare_cached(&format!("SELECT {GROUP_COLUMNS} FROM groups"))?
        .query_map([], group_from_row)?
        .collect()
}

pub(crate) fn list(
    conn: &Connection,
    filter: &GroupFilter,
) -> Result<(Vec<(GroupRecord, u64)>, u64), duckdb::Error> {
    let mut conditions = Conditions::default();
    if let Some(search) = &filter.search {
        let needle = search.to_lowercase();
        conditions.add(
            "(contains(g.name_key, ?) OR contains(lower(g.description), ?))",
            vec![Box::new(needle.clone()), Box::new(needle)],
        );
    }
    let total: u64 = conn.query_row(
        &format!("SELECT count(*) FROM groups g {}", conditions.sql()),
        params_from_iter(conditions.params()),
        |row| row.get(0),
    )?;
    let columns = GROUP_COLUMNS
        .split(", ")
        .map(|c| format!("g.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let mut select = conn.prepare_cached(&format!(
        "SELECT {columns}, (SELECT count(*) FROM memberships m WHERE m.group_id = g.id)
         FROM groups g {} ORDER BY g.name_key LIMIT {} OFFSET {}",
        conditions.sql(),
        filter.limit,
        filter.offset
    ))?;
    let groups = select
        .query_map(params_from_iter(conditions.params()), |row| {
            Ok((group_from_row(row)?, row.get::<_, u64>(7)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok((groups, total))
}

/// Writes the columns `change` names; whether the group exists.
pub(crate) fn apply(
    conn: &Connection,
    id: Uuid,
    at: DateTime<Utc>,
    change: &GroupChange,
) -> Result<bool, duckdb::Error> {
    let mut sets = vec!["updated_at = ?"];
    let mut args: Vec<Box<dyn ToSql>> = vec![Box::new(ts(at))];
    if let Some(name) = &change.name {
        sets.push("name = ?, name_key = ?");
        args.push(Box::new(name.clone()));
        args.push(Box::new(name.to_lowercase()));
    }
    if let Some(description) = &change.description {
        sets.push("description = ?");
        args.push(Box::new(description.clone()));
    }
    if let Some(role) = change.role {
        sets.push("role = ?");
        args.push(Box::new(role.map(Role::as_str)));
    }
    if let Some(ids) = &change.external_ids {
        sets.push("external_ids = ?");
        args.push(Box::new(external_ids_json(ids)));
    }
    args.push(Box::new(id.to_string()));
    let changed = conn.execute(
        &format!("UPDATE groups SET {} WHERE id = ?", sets.join(", ")),
        params_from_iter(args.iter().map(|a| a.as_ref())),
    )?;
    Ok(changed > 0)
}

/// Deletes the group and its memberships; its members' ids, or `None` for no such group.
pub(crate) fn delete(conn: &Connection, id: Uuid) -> Result<Option<Vec<Uuid>>, duckdb::Error> {
    let members = member_ids(conn, id)?;
    conn.execute(
        "DELETE FROM memberships WHERE group_id = ?",
        [id.to_string()],
    )?;
    crate::datasets::delete_grants_of_group(conn, id)?;
    let deleted = conn.execute("DELETE FROM groups WHERE id = ?", [id.to_string()])?;
    Ok((deleted > 0).then_some(members))
}

fn member_ids(conn: &Connection, group_id: Uuid) -> Result<Vec<Uuid>, duckdb::Error> {
    conn.prepare_cached("SELECT user_id FROM memberships WHERE group_id = ?")?
        .query_map([group_id.to_string()], |row| {
            parse_uuid(&row.get::<_, String>(0)?)
        })?
        .collect()
}

pub(crate) fn members(
    conn: &Connection,
    group_id: Uuid,
) -> Result<Vec<MemberRecord>, duckdb::Error> {
    conn.prepare_cached(
        "SELECT m.user_id, u.email, u.name, m.source, m.added_at
         FROM memberships m JOIN users u ON u.id = m.user_id
         WHERE m.group_id = ? ORDER BY u.email",
    )?
    .query_map([group_id.to_string()], |row| {
        Ok(MemberRecord {
            user_id: parse_uuid(&row.get::<_, String>(0)?)?,
            email: row.get(1)?,
            name: row.get(2)?,
            source: parse_source(&row.get::<_, String>(3)?)?,
            added_at: utc(row.get(4)?),
        })
    })?
    .collect()
}

/// The membership's source, if the user is a member.
pub(crate) fn membership(
    conn: &Connection,
    group_id: Uuid,
    user_id: Uuid,
) -> Result<Option<MembershipSource>, duckdb::Error> {
    conn.query_row(
        "SELECT source FROM memberships WHERE group_id = ? AND user_id = ?",
        params![group_id.to_string(), user_id.to_string()],
        |row| row.get::<_, String>(0),
    )
    .optional()?
    .map(|source| parse_source(&source))
    .transpose()
}

pub(crate) fn insert_member(
    conn: &Connection,
    group_id: Uuid,
    user_id: Uuid,
    source: MembershipSource,
    at: DateTime<Utc>,
) -> Result<(), duckdb::Error> {
    conn.execute(
        "INSERT INTO memberships (group_id, user_id, source, added_at) VALUES (?, ?, ?, ?)",
        params![
            group_id.to_string(),
            user_id.to_string(),
            source.as_str(),
            ts(at)
        ],
    )?;
    Ok(())
}

pub(crate) fn set_source(
    conn: &Connection,
    group_id: Uuid,
    user_id: Uuid,
    source: MembershipSource,
) -> Result<(), duckdb::Error> {
    conn.execute(
        "UPDATE memberships SET source = ? WHERE group_id = ? AND user_id = ?",
        params![source.as_str(), group_id.to_string(), user_id.to_string()],
    )?;
    Ok(())
}

pub(crate) fn delete_member(
    conn: &Connection,
    group_id: Uuid,
    user_id: Uuid,
) -> Result<(), duckdb::Error> {
    conn.execute(
        "DELETE FROM memberships WHERE group_id = ? AND user_id = ?",
        params![group_id.to_string(), user_id.to_string()],
    )?;
    Ok(())
}

pub(crate) fn delete_memberships_of(conn: &Connection, user_id: Uuid) -> Result<(), duckdb::Error> {
    conn.execute(
        "DELETE FROM memberships WHERE user_id = ?",
        [user_id.to_string()],
    )?;
    Ok(())
}

pub(crate) fn of_user(
    conn: &Connection,
    user_id: Uuid,
) -> Result<Vec<(GroupRecord, MembershipSource)>, duckdb::Error> {
    let columns = GROUP_COLUMNS
        .split(", ")
        .map(|c| format!("g.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    conn.prepare_cached(&format!(
        "SELECT {columns}, m.source FROM memberships m JOIN groups g ON g.id = m.group_id
         WHERE m.user_id = ? ORDER BY g.name_key"
    ))?
    .query_map([user_id.to_string()], |row| {
        Ok((
            group_from_row(row)?,
            parse_source(&row.get::<_, String>(7)?)?,
        ))
    })?
    .collect()
}

pub(crate) fn roles_of_users(
    conn: &Connection,
    users: &[Uuid],
) -> Result<Vec<(Uuid, Role)>, duckdb::Error> {
    if users.is_empty() {
        return Ok(Vec::new());
    }
    let marks = vec!["?"; users.len()].join(", ");
    let ids: Vec<String> = users.iter().map(Uuid::to_string).collect();
    conn.prepare(&format!(
        "SELECT m.user_id, g.role FROM memberships m JOIN groups g ON g.id = m.group_id
         WHERE g.role IS NOT NULL AND m.user_id IN ({marks})"
    ))?
    .query_map(params_from_iter(ids.iter()), |row| {
        let role: String = row.get(1)?;
        Ok((
            parse_uuid(&row.get::<_, String>(0)?)?,
            role.parse().map_err(|e| {
                duckdb::Error::FromSqlConversionFailure(
                    1,
                    duckdb::types::Type::Text,
                    format!("{e}").into(),
                )
            })?,
        ))
    })?
    .collect()
}
