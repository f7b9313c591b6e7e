//! The yardstick of `bench/datasets.sh`: DuckDB called directly in-process, without da.
//!
//!   query_direct generate FILE ROWS        writes a Parquet file of ROWS sales-like rows
//!   query_direct time FILE THREADS ROUNDS SQL
//!                                          runs SQL (the table is `data`) ROUNDS times on an
//!                                          in-memory instance with THREADS threads and prints
//!                                          each round's milliseconds
//!   query_direct print SQL                 prints the first column of each row (for looking
//!                                          at what DuckDB answers, e.g. json_serialize_sql)
use duckdb::{Config, Connection};
use std::time::Instant;

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        ["generate", file, rows] => {
            let rows: u64 = rows.parse()?;
            let conn = Connection::open_in_memory()?;
            conn.execute_batch(&format!(
                "COPY (SELECT range AS id, \
                        ['north', 'south', 'east', 'west', 'central'][(range % 5) + 1] AS region, \
                        (range % 997)::DECIMAL(10,2) + 0.5 AS amount, \
                        DATE '2024-01-01' + (range % 366)::INTEGER AS day \
                      FROM range({rows})) TO {} (FORMAT parquet)",
                literal(file)
            ))?;
            println!("wrote {rows} rows to {file}");
        }
        ["time", file, threads, rounds, sql] => {
            let config = Config::default().threads(threads.parse()?)?;
            let conn = Connection::open_in_memory_with_flags(config)?;
            conn.execute_batch(&format!(
                "CREATE VIEW data AS SELECT * FROM read_parquet({})",
                literal(file)
            ))?;
            // Settings to try, e.g. DA_SETUP="SET parquet_metadata_cache = true".
            if let Ok(setup) = std::env::var("DA_SETUP") {
                conn.execute_batch(&setup)?;
            }
            for _ in 0..rounds.parse::<u32>()? {
                let started = Instant::now();
                let mut statement = conn.prepare(sql)?;
                let mut rows = statement.query([])?;
                let mut n = 0u64;
                while rows.next()?.is_some() {
                    n += 1;
                }
                println!(
                    "{:.1} ms ({n} rows)",
                    started.elapsed().as_secs_f64() * 1000.0
                );
            }
        }
        ["print", sql] => {
            let conn = Connection::open_in_memory()?;
            let mut statement = conn.prepare(sql)?;
            let mut rows = statement.query([])?;
            while let Some(row) = rows.next()? {
                let value: duckdb::types::Value = row.get(0)?;
                println!("{value:?}");
            }
        }
        _ => {
            eprintln!(
                "usage: query_direct generate FILE ROWS | time FILE THREADS ROUNDS SQL | print SQL"
            );
            std::process::exit(2);
        }
    }
    Ok(())
}
