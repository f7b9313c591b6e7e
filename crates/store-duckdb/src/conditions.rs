//! A WHERE clause built from optional filter parts, with its parameters in order.

use duckdb::ToSql;

#[derive(Default)]
pub(crate) struct Conditions {
    clauses: Vec<String>,
    args: Vec<Box<dyn ToSql + Send>>,
}

impl Conditions {
    pub fn add(&mut self, clause: &str, args: Vec<Box<dyn ToSql + Send>>) {
        self.clauses.push(clause.to_owned());
        self.args.extend(args);
    }

    pub fn sql(&self) -> String {
        if self.clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", self.clauses.join(" AND "))
        }
    }

    pub fn params(&self) -> impl Iterator<Item = &(dyn ToSql + Send)> {
        self.args.iter().map(|arg| arg.as_ref())
    }
}
