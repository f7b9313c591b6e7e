//! Clauses built from optional parts, with their parameters numbered in order: a filter's
//! WHERE, and the SET list of a write that names only the columns it changes.

use tokio_postgres::types::ToSql;

pub(crate) type Arg = Box<dyn ToSql + Sync + Send>;

#[derive(Default)]
pub(crate) struct Conditions {
    clauses: Vec<String>,
    args: Vec<Arg>,
}

impl Conditions {
    /// Adds `clause`, whose `?` marks take `args` in order (numbered `$n` here).
    pub fn add(&mut self, clause: &str, args: Vec<Arg>) {
        let mut numbered = String::with_capacity(clause.len() + 4);
        let mut marks = 0;
        for c in clause.chars() {
            if c == '?' {
                marks += 1;
                numbered.push_str(&format!("${}", self.args.len() + marks));
            } else {
                numbered.push(c);
            }
        }
        debug_assert_eq!(marks, args.len(), "one argument per mark in {clause}");
        self.clauses.push(numbered);
        self.args.extend(args);
    }

    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    /// Runs `UPDATE table SET <these, comma-separated> WHERE id = <id>`; the rows it changed.
    pub async fn update_by_id(
        mut self,
        db: &impl deadpool_postgres::GenericClient,
        table: &str,
        id: uuid::Uuid,
    ) -> Result<u64, tokio_postgres::Error> {
        self.args.push(Box::new(id));
        let sql = format!(
            "UPDATE {table} SET {} WHERE id = ${}",
            self.clauses.join(", "),
            self.args.len()
        );
        let statement = db.prepare_cached(&sql).await?;
        db.execute(&statement, &self.params()).await
    }

    pub fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        self.args
            .iter()
            .map(|arg| arg.as_ref() as &(dyn ToSql + Sync))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_are_numbered_across_clauses() {
        let mut c = Conditions::default();
        c.add("a = ?", vec![Box::new(1i64)]);
        c.add("(b = ? OR c = ?)", vec![Box::new(2i64), Box::new(3i64)]);
        assert_eq!(c.sql(), "WHERE a = $1 AND (b = $2 OR c = $3)");
        assert_eq!(c.params().len(), 3);
    }
}
