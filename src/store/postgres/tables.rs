//! The tables a handling step writes, and the statement parts that write them from arrays of rows: an insert that
//! replaces a row whose key is stored, and a removal by key.

/// A table a step writes: its columns (name and type), the first `key` of which make the primary key.
pub(super) struct Table {
    name: &'static str,
    columns: &'static [(&'static str, &'static str)],
    key: usize,
    /// The table counts the writes of a row in a `version` column (1 when inserted).
    versioned: bool,
}

pub(super) const CONVERSATIONS: Table = Table {
    name: "conversations",
    columns: &[("key", "text"), ("record", "bytea")],
    key: 1,
    versioned: true,
};
pub(super) const RECENT_LINES: Table = Table {
    name: "recent_lines",
    columns: &[
        ("conversation", "text"),
        ("numbered", "boolean"),
        ("slot", "bigint"),
        ("record", "bytea"),
    ],
    key: 3,
    versioned: false,
};
pub(super) const CASES: Table = Table {
    name: "cases",
    columns: &[("number", "bigint"), ("record", "bytea")],
    key: 1,
    versioned: false,
};
pub(super) const CASE_LOGS: Table = Table {
    name: "case_logs",
    columns: &[
        ("number", "bigint"),
        ("line", "integer"),
        ("record", "bytea"),
    ],
    key: 2,
    versioned: false,
};
pub(super) const USER_CASES: Table = Table {
    name: "user_cases",
    columns: &[("account", "text"), ("case_id", "text")],
    key: 1,
    versioned: false,
};
pub(super) const HELD_CASES: Table = Table {
    name: "held_cases",
    columns: &[("account", "text"), ("number", "bigint")],
    key: 2,
    versioned: false,
};
pub(super) const WAITING: Table = Table {
    name: "waiting",
    columns: &[
        ("priority", "smallint"),
        ("queued_ms", "bigint"),
        ("number", "bigint"),
    ],
    key: 3,
    versioned: false,
};
pub(super) const RESERVED: Table = Table {
    name: "reserved",
    columns: &[("number", "bigint"), ("record", "bytea")],
    key: 1,
    versioned: false,
};
pub(super) const CASE_MESSAGES: Table = Table {
    name: "case_messages",
    columns: &[("reference", "text"), ("case_id", "text")],
    key: 1,
    versioned: false,
};
pub(super) const UNANSWERED: Table = Table {
    name: "unanswered",
    columns: &[("question", "text"), ("count", "bigint")],
    key: 1,
    versioned: false,
};

impl Table {
    /// `$first::type[], $(first + 1)::type[], …` for the first `n` columns.
    fn arrays(&self, n: usize, first: usize) -> String {
        self.columns[..n]
            .iter()
            .enumerate()
            .map(|(i, (_, ty))| format!("${}::{ty}[]", first + i))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn names(&self, n: usize) -> Vec<&'static str> {
        self.columns[..n].iter().map(|(name, _)| *name).collect()
    }

    /// Inserts the rows given as one array per column (parameters from `$first` on); a row whose key is stored
    /// replaces the stored one.
    pub(super) fn upsert_sql(&self, first: usize) -> String {
        let all = self.columns.len();
        let mut columns = self.names(all).join(", ");
        let mut values = "*".to_string();
        let mut updates: Vec<String> = self.names(all)[self.key..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect();
        if self.versioned {
            columns.push_str(", version");
            values.push_str(", 1");
            updates.push(format!("version = {}.version + 1", self.name));
        }
        let action = if updates.is_empty() {
            "NOTHING".to_string()
        } else {
            format!("UPDATE SET {}", updates.join(", "))
        };
        format!(
            "INSERT INTO {name} ({columns}) SELECT {values} FROM unnest({arrays}) \
             ON CONFLICT ({key}) DO {action}",
            name = self.name,
            arrays = self.arrays(all, first),
            key = self.names(self.key).join(", "),
        )
    }

    /// Removes the rows whose keys are given as one array per key column (parameters from `$first` on).
    pub(super) fn remove_sql(&self, first: usize) -> String {
        let keys = self.names(self.key);
        let matches: Vec<String> = keys.iter().map(|k| format!("t.{k} = d.{k}")).collect();
        format!(
            "DELETE FROM {name} t USING unnest({arrays}) AS d({keys}) WHERE {matches}",
            name = self.name,
            arrays = self.arrays(self.key, first),
            keys = keys.join(", "),
            matches = matches.join(" AND "),
        )
    }
}
