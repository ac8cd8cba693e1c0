-- supportbot schema version 3: the files visitors upload in the web chat, with their bytes, so that a link to
-- one works on every process. `unreferenced_since` is set by the sweep when no open case refers to the file any
-- more; the file is deleted the retention time after it.
CREATE TABLE page_files (
    id text COLLATE "C" PRIMARY KEY,
    name text NOT NULL,
    kind text NOT NULL,
    size bigint NOT NULL CHECK (size >= 0),
    content_type text NOT NULL,
    session text COLLATE "C",
    unreferenced_since timestamptz,
    bytes bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

-- Pictures and archives hardly compress: store them out of line without trying.
ALTER TABLE page_files ALTER COLUMN bytes SET STORAGE EXTERNAL;

-- A session's quota is counted from its files.
CREATE INDEX page_files_session ON page_files (session);
