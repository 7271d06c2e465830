-- Keeps updated_at and version (the ETag) right on every UPDATE, whoever writes.
CREATE FUNCTION meridian_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

CREATE TABLE institutions (
    id            uuid PRIMARY KEY,
    name          text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    short_name    text CHECK (length(short_name) BETWEEN 1 AND 100),
    kind          text NOT NULL CHECK (kind IN ('university', 'research_institute', 'company',
                      'government', 'ngo', 'incubator_operator', 'other')),
    country_code  text NOT NULL CHECK (country_code ~ '^[A-Z]{2}$'),
    city          text CHECK (length(city) BETWEEN 1 AND 100),
    website       text,
    contact_email text CHECK (contact_email = lower(contact_email)),
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    version       integer NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX institutions_name_country_key ON institutions (lower(name), country_code);
CREATE INDEX institutions_created_at_idx ON institutions (created_at, id);
CREATE INDEX institutions_updated_at_idx ON institutions (updated_at, id);
CREATE INDEX institutions_name_idx ON institutions (name, id);
CREATE INDEX institutions_country_idx ON institutions (country_code, id);
CREATE TRIGGER institutions_touch BEFORE UPDATE ON institutions
    FOR EACH ROW EXECUTE FUNCTION meridian_touch();

CREATE TABLE users (
    id             uuid PRIMARY KEY,
    email          text NOT NULL CHECK (email = lower(email)),
    full_name      text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
    role           text NOT NULL CHECK (role IN ('admin', 'coordinator', 'partner', 'trainee', 'viewer')),
    institution_id uuid REFERENCES institutions (id),
    -- References trainees once they exist.
    trainee_id     uuid,
    locale         text NOT NULL DEFAULT 'en' CHECK (locale IN ('en', 'fr', 'ar', 'es', 'pt', 'zh')),
    disabled       boolean NOT NULL DEFAULT false,
    last_login_at  timestamptz,
    password_hash  text,
    -- Raised to revoke every token of the user at once.
    token_version  integer NOT NULL DEFAULT 0,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    version        integer NOT NULL DEFAULT 1,
    CONSTRAINT users_partner_has_institution CHECK (role <> 'partner' OR institution_id IS NOT NULL),
    CONSTRAINT users_trainee_has_trainee CHECK (role <> 'trainee' OR trainee_id IS NOT NULL)
);
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_institution_idx ON users (institution_id);
CREATE TRIGGER users_touch BEFORE UPDATE ON users
    FOR EACH ROW EXECUTE FUNCTION meridian_touch();

-- Append-only: who changed what, in the transaction of the change.
CREATE TABLE audit_events (
    id          uuid PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_id    uuid,
    action      text NOT NULL,
    entity_type text NOT NULL,
    entity_id   uuid NOT NULL,
    changes     jsonb NOT NULL DEFAULT '{}',
    request_id  text
);
CREATE INDEX audit_events_at_idx ON audit_events (at, id);
CREATE INDEX audit_events_entity_idx ON audit_events (entity_type, entity_id, at);
CREATE INDEX audit_events_actor_idx ON audit_events (actor_id, at);

-- Answers of POST requests sent with an Idempotency-Key, kept 24 hours.
CREATE TABLE idempotency_keys (
    scope         uuid NOT NULL,
    key           text NOT NULL,
    request_hash  bytea NOT NULL,
    status_code   smallint,
    headers       jsonb,
    body          bytea,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
