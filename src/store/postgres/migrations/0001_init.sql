-- supportbot schema version 1: every record the engine keeps, one table per kind.
-- Records are stored as the same versioned JSON bytes as in the sled store (a version byte, then JSON).
-- Text keys sort byte by byte (COLLATE "C"), as they do in sled, whatever the database's locale.

-- Conversations by key; `version` counts the writes of one conversation (the stamp of a read).
CREATE TABLE conversations (
    key text COLLATE "C" PRIMARY KEY,
    version bigint NOT NULL,
    record bytea NOT NULL
);

-- A conversation's recent lines: ring slots (numbered = false) and lines earlier versions kept by number.
CREATE TABLE recent_lines (
    conversation text COLLATE "C" NOT NULL,
    numbered boolean NOT NULL,
    slot bigint NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (conversation, numbered, slot)
);

CREATE TABLE cases (
    number bigint PRIMARY KEY,
    record bytea NOT NULL
);

-- Transcript and history lines of a case.
CREATE TABLE case_logs (
    number bigint NOT NULL,
    line integer NOT NULL,
    record bytea NOT NULL,
    PRIMARY KEY (number, line)
);

-- The open case (`C-…`) of a user account.
CREATE TABLE user_cases (
    account text COLLATE "C" PRIMARY KEY,
    case_id text NOT NULL
);

-- Cases an operator account holds.
CREATE TABLE held_cases (
    account text COLLATE "C" NOT NULL,
    number bigint NOT NULL,
    PRIMARY KEY (account, number)
);

-- The waiting queue: priority (lower first), then when queued.
CREATE TABLE waiting (
    priority smallint NOT NULL,
    queued_ms bigint NOT NULL,
    number bigint NOT NULL,
    PRIMARY KEY (priority, queued_ms, number)
);

-- Cases kept for an account manager.
CREATE TABLE reserved (
    number bigint PRIMARY KEY,
    record bytea NOT NULL
);

-- Messages that stand for a case (an envelope id, or `pm:<platform>:<chat>:<message id>`).
CREATE TABLE case_messages (
    reference text COLLATE "C" PRIMARY KEY,
    case_id text NOT NULL
);

-- Questions the FAQ could not answer, and how often they were asked.
CREATE TABLE unanswered (
    question text COLLATE "C" PRIMARY KEY,
    count bigint NOT NULL
);

-- Platform message ids already received: a redelivery to any process is stored once.
CREATE TABLE seen_messages (
    platform text COLLATE "C" NOT NULL,
    id text COLLATE "C" NOT NULL,
    PRIMARY KEY (platform, id)
);

-- Received messages not handled yet, by arrival.
CREATE SEQUENCE inbound_seq MINVALUE 0 START 0;
-- `conversation` (the conversation key) lets a step find an earlier message of its conversation that another
-- process stored.
CREATE TABLE inbound (
    seq bigint PRIMARY KEY,
    conversation text COLLATE "C" NOT NULL,
    record bytea NOT NULL,
    -- When it was stored: messages left unhandled long after are taken over from a stopped process.
    stored_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX inbound_by_conversation ON inbound (conversation, seq);

-- Case numbers: 1001, 1002, ... across every process.
CREATE SEQUENCE case_numbers START 1001;

-- Undelivered outgoing messages; the process named by lease_owner delivers an item until lease_until.
CREATE SEQUENCE outbox_seq MINVALUE 0 START 0;
-- `order_key` (the chat) lets a sender see an earlier item of the chat that another process holds.
CREATE TABLE outbox (
    seq bigint PRIMARY KEY,
    order_key text COLLATE "C" NOT NULL,
    record bytea NOT NULL,
    lease_owner text,
    lease_until timestamptz
);
CREATE INDEX outbox_by_lease_owner ON outbox (lease_owner);
CREATE INDEX outbox_by_order_key ON outbox (order_key, seq);
