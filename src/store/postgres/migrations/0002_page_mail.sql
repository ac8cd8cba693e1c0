-- supportbot schema version 2: the mailboxes of web pages (chat visitors, inbox operators), the key chat
-- sessions are signed with and the inbox's sign-ins, so that a page may connect to any process. Each letter is numbered from one
-- sequence under a lock of its mailbox, so a mailbox's numbers increase in the order its letters were stored.
CREATE SEQUENCE page_mail_n;

CREATE TABLE page_mail (
    mailbox text COLLATE "C" NOT NULL,
    n bigint NOT NULL,
    body text NOT NULL,
    posted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (mailbox, n)
);

CREATE INDEX page_mail_posted_at ON page_mail (posted_at);

-- Keys every process shares: `session` signs the chat page's session tokens.
CREATE TABLE page_keys (
    name text PRIMARY KEY,
    value text NOT NULL
);

-- Inbox sign-ins, under the SHA-256 digest of their cookie: valid on every process until they expire or end.
CREATE TABLE page_sign_ins (
    key text PRIMARY KEY,
    record text NOT NULL,
    expires_at timestamptz NOT NULL
);
